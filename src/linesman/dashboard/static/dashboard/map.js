/* The device map: country borders and coastlines under the devices, zoom, pan, clusters.
 *
 * Replaces the server-drawn plot of /ui/map/ (kept for browsers without script) once the
 * map's data (/ui/map/data/: one cluster per place) and the vendored Natural Earth 1:110m
 * countries (TopoJSON, world-atlas) have loaded. Web Mercator, in world units: the whole
 * world is WORLD units wide. Places closer than CELL screen pixels merge into one circle
 * with a count, so the clusters change with the zoom. No network beyond our own server.
 */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var WORLD = 1000;
  var ASPECT = 560 / 1000;
  var CELL = 36; // px: places nearer than this on screen form one cluster
  var MAX_LABELS = 40;
  var MIN_WIDTH = 0.5; // world units: the deepest zoom (about 0.2 degrees across)
  var MAX_LAT = 85.05;

  function project(lon, lat) {
    var phi = (Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI) / 180;
    return [
      ((lon + 180) / 360) * WORLD,
      WORLD / 2 - (WORLD / (2 * Math.PI)) * Math.log(Math.tan(Math.PI / 4 + phi / 2)),
    ];
  }

  /* TopoJSON: quantized, delta-encoded arcs; a ring lists arc indexes (~i: arc i reversed). */
  function decodeArcs(topology) {
    var t = topology.transform;
    return topology.arcs.map(function (arc) {
      var x = 0, y = 0;
      return arc.map(function (p) {
        x += p[0];
        y += p[1];
        return t ? [x * t.scale[0] + t.translate[0], y * t.scale[1] + t.translate[1]] : p;
      });
    });
  }

  function ringPath(ring, arcs) {
    var points = [];
    ring.forEach(function (index) {
      var arc = index < 0 ? arcs[~index].slice().reverse() : arcs[index];
      arc.forEach(function (p, i) {
        if (i > 0 || points.length === 0) points.push(project(p[0], p[1]));
      });
    });
    return "M" + points.map(function (p) { return p[0].toFixed(2) + "," + p[1].toFixed(2); }).join("L") + "Z";
  }

  function countryPaths(topology) {
    var arcs = decodeArcs(topology);
    var out = [];
    topology.objects.countries.geometries.forEach(function (g) {
      var polygons = g.type === "Polygon" ? [g.arcs] : g.type === "MultiPolygon" ? g.arcs : [];
      var d = polygons.map(function (rings) {
        return rings.map(function (r) { return ringPath(r, arcs); }).join("");
      }).join("");
      if (d) out.push({ d: d, name: (g.properties && g.properties.name) || "" });
    });
    return out;
  }

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function DeviceMap(svg, data, topology) {
    this.svg = svg;
    this.data = data;
    this.places = data.clusters.map(function (c) {
      var p = project(c.lon, c.lat);
      return { x: p[0], y: p[1], c: c };
    });
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    el("rect", { class: "sea", x: -WORLD, y: -WORLD, width: 3 * WORLD, height: 3 * WORLD }, svg);
    this.tileUrl = svg.dataset.tiles || "";
    this.tiles = this.tileUrl ? el("g", { class: "tiles" }, svg) : null;
    if (this.tileUrl) svg.classList.add("with-tiles");
    var land = el("g", { class: "land" }, svg);
    if (topology) {
      countryPaths(topology).forEach(function (c) {
        var path = el("path", { d: c.d, class: "country" }, land);
        el("title", {}, path).textContent = c.name;
      });
    }
    this.layer = el("g", { class: "devices" }, svg);
    this.fit();
  }

  DeviceMap.prototype.fit = function () {
    var xs = this.places.map(function (p) { return p.x; });
    var ys = this.places.map(function (p) { return p.y; });
    if (!xs.length) return this.setView(0, 0, WORLD);
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    var w = Math.max((x1 - x0) * 1.6, ((y1 - y0) * 1.6) / ASPECT, MIN_WIDTH * 4);
    this.setView((x0 + x1) / 2 - w / 2, (y0 + y1) / 2 - (w * ASPECT) / 2, w);
  };

  DeviceMap.prototype.setView = function (x, y, w) {
    w = Math.max(MIN_WIDTH, Math.min(WORLD * 1.2, w));
    this.view = { x: x, y: y, w: w };
    this.svg.setAttribute("viewBox", [x, y, w, w * ASPECT].map(function (n) { return n.toFixed(4); }).join(" "));
    this.svg.dataset.zoom = (WORLD / w).toFixed(2);
    this.draw();
  };

  /* Zoom by `factor` (>1: in) keeping the world point under (fx, fy) (0..1 of the view) still. */
  DeviceMap.prototype.zoom = function (factor, fx, fy) {
    var v = this.view, h = v.w * ASPECT, w = v.w / factor;
    fx = fx === undefined ? 0.5 : fx;
    fy = fy === undefined ? 0.5 : fy;
    this.setView(v.x + fx * v.w - fx * w, v.y + fy * h - fy * w * ASPECT, w);
  };

  DeviceMap.prototype.scale = function () {
    return (this.svg.clientWidth || 1000) / this.view.w; // px per world unit
  };

  DeviceMap.prototype.clusters = function () {
    var s = this.scale(), cells = {}, out = [];
    this.places.forEach(function (p) {
      var key = Math.floor((p.x * s) / CELL) + ":" + Math.floor((p.y * s) / CELL);
      var k = cells[key];
      if (!k) {
        k = cells[key] = { x: 0, y: 0, count: 0, up: 0, down: 0, places: [] };
        out.push(k);
      }
      k.x += p.x * p.c.count;
      k.y += p.y * p.c.count;
      k.count += p.c.count;
      k.up += p.c.up;
      k.down += p.c.down;
      k.places.push(p.c);
    });
    out.forEach(function (k) { k.x /= k.count; k.y /= k.count; });
    return out;
  };

  /* Web-Mercator tiles (LINESMAN_MAP_TILE_URL) for the view, at the zoom where a tile is
   * about 256 px; at most MAX_TILES of them. Tiles wrap around east-west. */
  var MAX_TILES = 64;
  DeviceMap.prototype.drawTiles = function () {
    if (!this.tiles) return;
    var v = this.view, s = this.scale(), h = v.w * ASPECT;
    var z = Math.max(0, Math.min(19, Math.round(Math.log2((WORLD * s) / 256))));
    var n = Math.pow(2, z), size = WORLD / n;
    var x0 = Math.floor(v.x / size), x1 = Math.floor((v.x + v.w) / size);
    var y0 = Math.max(0, Math.floor(v.y / size)), y1 = Math.min(n - 1, Math.floor((v.y + h) / size));
    while (this.tiles.firstChild) this.tiles.removeChild(this.tiles.firstChild);
    var count = (x1 - x0 + 1) * (y1 - y0 + 1);
    // What was asked for, for people and tests (failed tiles remove themselves).
    this.tiles.setAttribute("data-z", z);
    this.tiles.setAttribute("data-requested", count > MAX_TILES ? 0 : count);
    this.tiles.setAttribute("data-first", this.tileUrl.replace("{z}", z).replace("{x}", ((x0 % n) + n) % n).replace("{y}", y0));
    if (count > MAX_TILES) return;
    for (var ty = y0; ty <= y1; ty++) {
      for (var tx = x0; tx <= x1; tx++) {
        var wrapped = ((tx % n) + n) % n;
        var href = this.tileUrl.replace("{z}", z).replace("{x}", wrapped).replace("{y}", ty);
        var img = el("image", { x: tx * size, y: ty * size, width: size, height: size }, this.tiles);
        // A tile that fails to load goes away rather than showing a broken-image icon.
        img.addEventListener("error", function (e) { e.target.remove(); });
        img.setAttribute("href", href);
      }
    }
  };

  DeviceMap.prototype.draw = function () {
    this.drawTiles();
    var self = this, s = this.scale(), layer = this.layer;
    while (layer.firstChild) layer.removeChild(layer.firstChild);
    var found = this.clusters();
    var labelled = found.length <= MAX_LABELS;
    found.sort(function (a, b) { return (a.down > 0) - (b.down > 0); });
    found.forEach(function (k) {
      var css = k.down === 0 ? "up" : k.up === 0 ? "down" : "mixed";
      var single = k.count === 1 ? k.places[0].devices[0] : null;
      var px = single ? 5 : Math.min(22, 9 + 2.5 * Math.sqrt(k.count));
      var parent = single ? el("a", { href: single.url }, layer) : el("g", { class: "cluster" }, layer);
      var circle = el("circle", {
        class: "dev " + css, cx: k.x, cy: k.y, r: px / s, "data-count": k.count,
      }, parent);
      if (single) circle.setAttribute("data-device", single.id);
      var names = [];
      k.places.forEach(function (c) { c.devices.forEach(function (d) { names.push(d.name + " (" + d.status + ")"); }); });
      el("title", {}, circle).textContent = single
        ? names[0]
        : k.count + " devices: " + k.up + " Up, " + k.down + " Down\n" + names.slice(0, 15).join("\n") + (k.count > 15 ? "\n…" : "");
      if (!single) {
        var n = el("text", { class: "ccount", x: k.x, y: k.y, dy: (4 / s) }, parent);
        n.style.fontSize = 11 / s + "px"; // text keeps its screen size at every zoom
        n.textContent = k.count;
        parent.addEventListener("click", function () {
          var w = self.view.w / 4; // centre on the cluster, four times closer
          self.setView(k.x - w / 2, k.y - (w * ASPECT) / 2, w);
        });
      }
      if (labelled) {
        var label = k.places.length === 1 ? k.places[0].label : k.places.length + " places";
        var t = el("text", { class: "dlabel", x: k.x + (px + 4) / s, y: k.y + 4 / s }, parent);
        t.style.fontSize = 11 / s + "px";
        t.textContent = label;
      }
    });
    this.svg.dataset.clusters = found.length;
  };

  function attach(map, svg) {
    var tools = document.querySelector(".map-tools");
    if (tools) tools.hidden = false;
    function on(id, f) { var b = document.getElementById(id); if (b) b.addEventListener("click", f); }
    on("map-zoom-in", function () { map.zoom(2); });
    on("map-zoom-out", function () { map.zoom(0.5); });
    on("map-reset", function () { map.fit(); });
    function fraction(e) {
      var r = svg.getBoundingClientRect();
      return [(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height];
    }
    svg.addEventListener("wheel", function (e) {
      e.preventDefault();
      var f = fraction(e);
      map.zoom(e.deltaY < 0 ? 1.25 : 0.8, f[0], f[1]);
    }, { passive: false });
    svg.addEventListener("dblclick", function (e) {
      var f = fraction(e);
      map.zoom(2, f[0], f[1]);
    });
    var drag = null;
    svg.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, view: map.view, moved: false };
    });
    window.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      drag.moved = true;
      svg.classList.add("panning");
      var s = map.scale();
      map.setView(drag.view.x - dx / s, drag.view.y - dy / s, drag.view.w);
    });
    window.addEventListener("pointerup", function () {
      svg.classList.remove("panning");
      drag = null;
    });
    window.addEventListener("resize", function () { map.draw(); });
  }

  function start() {
    var svg = document.getElementById("device-map");
    if (!svg || !window.fetch) return;
    var data = fetch(svg.dataset.src, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("map data: HTTP " + r.status);
      return r.json();
    });
    var world = fetch(svg.dataset.world).then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; }); // no borders is better than no map
    Promise.all([data, world]).then(function (both) {
      var map = new DeviceMap(svg, both[0], both[1]);
      attach(map, svg);
      svg.dataset.ready = "1";
    }).catch(function (err) {
      svg.dataset.error = String(err);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
