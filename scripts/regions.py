"""Generate src/usercenter/platform/data/regions.json.gz, the GB/T 2260 divisions (province ->
city -> county level) the service ships, from modood/Administrative-divisions-of-China's
`dist/pca-code.json` (the National Bureau of Statistics' division codes, county level and up).

    python scripts/regions.py PATH/TO/pca-code.json --source-version <commit or tag>
    git --git-dir=REPO.git show HEAD:dist/pca-code.json | python scripts/regions.py - --source-version ...

What it changes, so that the picker and the validator read sensibly:
- codes become six digits (`44` -> `440000`, `4401` -> `440100`);
- a municipality's `市辖区` (110100, 120100, 310100, 500100) is named after the municipality,
  and Chongqing's `县` (500200) `重庆市(县)`;
- the township codes (nine digits) that the dataset lists under the four prefecture-level cities
  without counties (东莞, 中山, 儋州, 嘉峪关) are left out: those cities are themselves the lowest
  level an address names.
The output is deterministic (sorted, gzip without a timestamp), so regenerating it from the same
source changes nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parents[1] / "src/usercenter/platform/data/regions.json.gz"
SOURCE = "https://github.com/modood/Administrative-divisions-of-China (dist/pca-code.json)"


def six(code: str) -> str:
    return code.ljust(6, "0")


def convert(provinces: list[dict[str, Any]]) -> list[list[Any]]:
    tree: list[list[Any]] = []
    for province in sorted(provinces, key=lambda p: p["code"]):
        cities: list[list[Any]] = []
        for city in sorted(province.get("children", []), key=lambda c: c["code"]):
            name = city["name"]
            if name == "市辖区":
                name = province["name"]
            elif name == "县":
                name = f"{province['name']}(县)"
            districts = [
                [d["code"], d["name"]]
                for d in sorted(city.get("children", []), key=lambda d: d["code"])
                if len(d["code"]) == 6
            ]
            cities.append([six(city["code"]), name, districts])
        tree.append([six(province["code"]), province["name"], cities])
    return tree


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="pca-code.json, or - for standard input")
    parser.add_argument("--source-version", required=True, help="the dataset's commit or tag")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    text = sys.stdin.read() if args.source == "-" else Path(args.source).read_text("utf-8")
    document = {
        "source": SOURCE,
        "version": args.source_version,
        "provinces": convert(json.loads(text)),
    }
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    counts = [len(document["provinces"]), 0, 0]
    for _, _, cities in document["provinces"]:
        counts[1] += len(cities)
        counts[2] += sum(len(districts) for _, _, districts in cities)
    print(f"{args.output}: {counts[0]} provinces, {counts[1]} cities, {counts[2]} counties")
    return 0


if __name__ == "__main__":
    sys.exit(main())
