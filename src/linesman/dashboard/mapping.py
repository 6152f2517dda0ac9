"""The device map: a self-contained SVG plot of devices by latitude/longitude.

No tile server and no script: an equirectangular projection of the bounding box of the
devices shown, a graticule for orientation, one dot per device coloured by status. Beyond
`MAX_DOTS` devices, dots that land on the same few pixels merge into one sized dot coloured
by the share of Down devices, so the page stays light for a large fleet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db.models import QuerySet

from linesman.inventory.models import Device, DeviceStatus

WIDTH, HEIGHT, PAD = 1000, 560, 40
MAX_DOTS = 3000
CELL = 6  # pixels per merged cell beyond MAX_DOTS
MAX_LABELS = 40
#: Devices without coordinates listed by name under the map (the rest are counted).
MAX_UNPLACED_LISTED = 200


@dataclass
class Dot:
    x: float
    y: float
    up: int = 0
    down: int = 0
    device_id: int | None = None
    label: str = ""

    @property
    def count(self) -> int:
        return self.up + self.down

    @property
    def radius(self) -> float:
        return 5.0 if self.count == 1 else min(18.0, 4.0 + 2.2 * math.sqrt(self.count))

    @property
    def css(self) -> str:
        if self.down == 0:
            return "up"
        return "down" if self.up == 0 else "mixed"


@dataclass
class Plot:
    dots: list[Dot] = field(default_factory=list)
    grid: list[dict] = field(default_factory=list)
    placed: int = 0
    unplaced: int = 0
    merged: bool = False
    #: Few enough dots to print each device's name beside it.
    labelled: bool = False
    width: int = WIDTH
    height: int = HEIGHT


def _number(value: str, limit: int) -> float | None:
    try:
        number = float(Decimal(value.strip()))
    except (InvalidOperation, ValueError, AttributeError):
        return None
    return number if math.isfinite(number) and abs(number) <= limit else None


def coordinates(queryset: QuerySet[Device]):
    """(id, name, status, lat, lon) of each device: its own coordinates, else its location's."""
    rows = queryset.values_list(
        "id", "name", "status", "latitude", "longitude", "location__latitude", "location__longitude"
    ).order_by("id")
    for pk, name, status, lat, lon, loc_lat, loc_lon in rows.iterator(chunk_size=5000):
        y = _number(lat, 90) if lat else _number(loc_lat or "", 90)
        x = _number(lon, 180) if lon else _number(loc_lon or "", 180)
        yield pk, name, status, y, x


def _step(span: float) -> float:
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 45, 60):
        if span / step <= 8:
            return step
    return 90


def plot(queryset: QuerySet[Device]) -> Plot:
    points, unplaced = [], 0
    for pk, name, status, lat, lon in coordinates(queryset):
        if lat is None or lon is None:
            unplaced += 1
        else:
            points.append((pk, name, status, lat, lon))
    result = Plot(unplaced=unplaced, placed=len(points))
    if not points:
        return result
    lats = [p[3] for p in points]
    lons = [p[4] for p in points]
    # A margin around the devices, and a minimum span so one device is not a lone dot in
    # a degenerate box.
    south, north = min(lats), max(lats)
    west, east = min(lons), max(lons)
    lat_margin = max((north - south) * 0.08, 0.01)
    lon_margin = max((east - west) * 0.08, 0.01)
    south, north = max(-90.0, south - lat_margin), min(90.0, north + lat_margin)
    west, east = max(-180.0, west - lon_margin), min(180.0, east + lon_margin)
    # Keep degrees square at the plot's mean latitude so shapes are not stretched.
    mid = math.radians((north + south) / 2)
    lon_span = (east - west) * max(math.cos(mid), 0.2)
    lat_span = north - south
    scale = min((WIDTH - 2 * PAD) / lon_span, (HEIGHT - 2 * PAD) / lat_span)
    x_off = (WIDTH - lon_span * scale) / 2
    y_off = (HEIGHT - lat_span * scale) / 2
    squash = max(math.cos(mid), 0.2)

    def project(lat: float, lon: float) -> tuple[float, float]:
        return (
            round(x_off + (lon - west) * squash * scale, 1),
            round(y_off + (north - lat) * scale, 1),
        )

    merge = len(points) > MAX_DOTS
    result.merged = merge
    cells: dict[tuple[int, int], Dot] = {}
    for pk, name, status, lat, lon in points:
        x, y = project(lat, lon)
        if not merge:
            dot = Dot(x, y, device_id=pk, label=name)
            result.dots.append(dot)
        else:
            cell = (int(x // CELL), int(y // CELL))
            dot = cells.get(cell)
            if dot is None:
                dot = cells[cell] = Dot(cell[0] * CELL + CELL / 2, cell[1] * CELL + CELL / 2)
        if status == DeviceStatus.UP:
            dot.up += 1
        else:
            dot.down += 1
    if merge:
        result.dots = sorted(cells.values(), key=lambda d: d.count, reverse=True)
    result.labelled = not merge and len(result.dots) <= MAX_LABELS
    # Down devices are drawn last so they sit on top of Up ones.
    result.dots.sort(key=lambda d: d.down > 0)

    step = _step(max(north - south, east - west))
    lat_line = math.ceil(south / step) * step
    while lat_line <= north:
        _, y = project(lat_line, west)
        result.grid.append({"kind": "lat", "x": 0, "y": y, "label": f"{lat_line:g}°"})
        lat_line = round(lat_line + step, 6)
    lon_line = math.ceil(west / step) * step
    while lon_line <= east:
        x, _ = project(south, lon_line)
        result.grid.append({"kind": "lon", "x": x, "y": HEIGHT, "label": f"{lon_line:g}°"})
        lon_line = round(lon_line + step, 6)
    return result


# --- the interactive map's data --------------------------------------------------------

#: Devices listed by name in one cluster of the data endpoint (the rest are counted).
CLUSTER_DEVICES = 20


@dataclass
class Cluster:
    """Devices at one place (the same coordinates, to about a metre)."""

    lat: float
    lon: float
    up: int = 0
    down: int = 0
    locations: set[str] = field(default_factory=set)
    #: Devices placed by coordinates of their own (not by their location's).
    own: int = 0
    devices: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        count = self.up + self.down
        if len(self.locations) == 1 and not self.own:
            label = next(iter(self.locations))
        elif count == 1:
            label = self.devices[0]["name"]
        else:
            label = f"{count} devices"
        return {
            "lat": self.lat,
            "lon": self.lon,
            "count": count,
            "up": self.up,
            "down": self.down,
            "label": label,
            "devices": self.devices,
        }


def clusters(queryset: QuerySet[Device]) -> tuple[list[dict], list[int]]:
    """(clusters, ids of the devices without coordinates); devices at one place: one cluster.

    A device placed by its location's coordinates carries the location's name, so a
    cluster of devices of one site is labelled with the site's name. Zoom-dependent merging
    of nearby clusters is left to the browser, which knows the scale it draws at.
    """
    rows = queryset.values_list(
        "id",
        "name",
        "status",
        "latitude",
        "longitude",
        "location__name",
        "location__latitude",
        "location__longitude",
    ).order_by("id")
    places: dict[tuple[float, float], Cluster] = {}
    unplaced: list[int] = []
    for pk, name, status, lat, lon, loc_name, loc_lat, loc_lon in rows.iterator(chunk_size=5000):
        own = bool(lat and lon)
        y = _number(lat, 90) if own else _number(loc_lat or "", 90)
        x = _number(lon, 180) if own else _number(loc_lon or "", 180)
        if y is None or x is None:
            unplaced.append(pk)
            continue
        key = (round(y, 5), round(x, 5))
        cluster = places.get(key)
        if cluster is None:
            cluster = places[key] = Cluster(lat=key[0], lon=key[1])
        if status == DeviceStatus.UP:
            cluster.up += 1
        else:
            cluster.down += 1
        if own:
            cluster.own += 1
        elif loc_name:
            cluster.locations.add(loc_name)
        if len(cluster.devices) < CLUSTER_DEVICES:
            cluster.devices.append({"id": pk, "name": name, "status": status})
    return [cluster.as_json() for cluster in places.values()], unplaced
