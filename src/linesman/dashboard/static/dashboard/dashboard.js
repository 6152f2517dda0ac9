/* Linesman dashboard: live fragments, confirmations and the parameter filter.
 *
 * An element with data-poll="URL" is refreshed from URL. The fragment the server returns
 * says when to ask again: data-poll-next="ms" on its root (0 or absent: stop). So the
 * server decides the cadence: fast while an operation runs, slow or never otherwise.
 * Forms with data-confirm="question" ask before submitting and then send confirmed=on;
 * "{choice}" in the question is replaced by the chosen option's data-label of the form's
 * select[data-confirm-choice] (the firmware form names the image it installs).
 * Bars carry their width as data-width="percent" (the Content-Security-Policy allows no
 * inline style attributes; styles set from script are allowed).
 */
(function () {
  "use strict";

  function nextDelay(el) {
    var marker = el.querySelector("[data-poll-next]");
    return marker ? parseInt(marker.getAttribute("data-poll-next"), 10) || 0 : 0;
  }

  function openPaths(el) {
    var open = {};
    el.querySelectorAll("details[open][data-path]").forEach(function (d) {
      open[d.getAttribute("data-path")] = true;
    });
    return open;
  }

  function restoreOpen(el, open) {
    el.querySelectorAll("details[data-path]").forEach(function (d) {
      if (open[d.getAttribute("data-path")]) d.open = true;
    });
  }

  function schedule(el) {
    var delay = nextDelay(el);
    if (delay > 0) setTimeout(function () { refresh(el); }, delay);
  }

  function refresh(el) {
    if (document.hidden) { // no point polling a background tab; try again later
      setTimeout(function () { refresh(el); }, 2000);
      return;
    }
    fetch(el.getAttribute("data-poll"), {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (r) {
        if (r.redirected || !r.ok) throw new Error("HTTP " + r.status); // logged out or gone
        return r.text();
      })
      .then(function (html) {
        var keep = el.hasAttribute("data-keep-open") ? openPaths(el) : null;
        el.innerHTML = html;
        if (keep) restoreOpen(el, keep);
        applyWidths(el);
        applyFilters();
        el.dispatchEvent(new CustomEvent("linesman:refreshed", {bubbles: true}));
        schedule(el);
      })
      .catch(function () { setTimeout(function () { refresh(el); }, 5000); });
  }

  function applyFilter(input) {
    var target = document.querySelector(input.getAttribute("data-tree-filter"));
    if (!target) return;
    var term = input.value.trim().toLowerCase();
    target.querySelectorAll("li.leaf").forEach(function (li) {
      li.hidden = term !== "" && li.getAttribute("data-path").toLowerCase().indexOf(term) < 0;
    });
    target.querySelectorAll("li.branch").forEach(function (li) {
      var visible = li.querySelector("li.leaf:not([hidden])");
      li.hidden = term !== "" && !visible;
      if (term !== "" && visible) li.querySelector("details").open = true;
    });
  }

  function applyWidths(root) {
    root.querySelectorAll("[data-width]").forEach(function (bar) {
      bar.style.width = (parseFloat(bar.getAttribute("data-width")) || 0) + "%";
    });
  }

  function applyFilters() {
    document.querySelectorAll("[data-tree-filter]").forEach(applyFilter);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (!question) return;
    var select = form.querySelector("select[data-confirm-choice]");
    if (select && select.selectedOptions.length) {
      var option = select.selectedOptions[0];
      question = question.replace("{choice}", option.getAttribute("data-label") || option.text);
    }
    if (!window.confirm(question)) { event.preventDefault(); return; }
    var flag = document.createElement("input");
    flag.type = "hidden"; flag.name = "confirmed"; flag.value = "on";
    form.appendChild(flag);
  });

  // The top bar's menu button on narrow screens (CSS shows it; this opens the menu).
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("#menu-toggle") : null;
    if (!button) return;
    var bar = button.closest(".topbar");
    var open = !bar.classList.contains("menu-open");
    bar.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // Writable parameters: "edit" opens the page's edit form in the parameter's row.
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.hasAttribute && target.hasAttribute("data-edit-cancel")) {
      var open = target.closest("form.edit");
      if (open) open.remove();
      return;
    }
    if (!(target.hasAttribute && target.hasAttribute("data-edit"))) return;
    var template = document.getElementById("param-edit-template");
    var leaf = target.closest("li.leaf");
    if (!template || !leaf) return;
    document.querySelectorAll("li.leaf form.edit").forEach(function (f) { f.remove(); });
    var form = template.content.firstElementChild.cloneNode(true);
    form.querySelector("[name=variable_name]").value = target.getAttribute("data-edit");
    var input = form.querySelector("[name=value]");
    input.value = target.getAttribute("data-value") || "";
    leaf.appendChild(form);
    input.focus();
    input.select();
  });

  // Writable objects: "add instance" / "delete instance" post the page's object form
  // (requestSubmit, so a delete asks first like every destructive form).
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-object-action]") : null;
    var form = document.getElementById("object-form");
    if (!button || !form) return;
    var action = button.getAttribute("data-object-action");
    var name = button.getAttribute("data-object");
    form.querySelector("[name=action]").value = action;
    form.querySelector("[name=object_name]").value = name;
    if (action === "delete") form.setAttribute("data-confirm", "Delete " + name + "?");
    else form.removeAttribute("data-confirm");
    form.requestSubmit();
  });

  // A header checkbox with data-pick-all="NAME" (de)selects every checkbox named NAME.
  document.addEventListener("change", function (event) {
    var name = event.target.getAttribute && event.target.getAttribute("data-pick-all");
    if (!name) return;
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = event.target.checked;
    });
  });

  document.addEventListener("input", function (event) {
    if (event.target.hasAttribute("data-tree-filter")) applyFilter(event.target);
  });

  document.addEventListener("DOMContentLoaded", function () {
    applyWidths(document);
    document.querySelectorAll("[data-poll]").forEach(schedule);
  });
})();
