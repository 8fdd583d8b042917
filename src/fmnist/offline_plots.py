"""Make `dvc plots show` and `dvc plots diff` render with no internet.

DVC's default HTML page loads Vega, Vega-Lite and Vega-Embed from a CDN, and renders blank
offline. This writes an HTML template with those libraries inlined (bundled by the
``vl-convert-python`` package, no download) and points DVC at it in ``.dvc/config.local``,
so a clone that never ran the set-up keeps DVC's default.
"""

from __future__ import annotations

from pathlib import Path

from fmnist.io import write_text
from fmnist.repo import checked, dvc_executable, run

TEMPLATE_NAME = "offline_plots.html"  # DVC resolves plots.html_template relative to .dvc/
VEGA_LITE_VERSION = "5.20"


def build_template() -> str:
    import vl_convert

    bundle = vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)  # type: ignore[call-arg]  # snippet is optional
    # The bundle defines window.vegaEmbed; the function scope keeps its other top-level
    # names from clashing with the `var spec` in each of DVC's plot scripts.
    return f"""<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    <title>DVC plots (offline)</title>
    <script type="text/javascript">
(function () {{
{bundle}
}})();
    </script>
    <style>table {{ border-spacing: 15px; }}</style>
</head>
<body>
    {{plot_divs}}
</body>
</html>
"""


def install(repo: Path = Path(".")) -> Path:
    path = repo / ".dvc" / TEMPLATE_NAME
    write_text(path, build_template())
    checked(run([dvc_executable(), "config", "--local", "plots.html_template", TEMPLATE_NAME], cwd=repo), "dvc config")
    return path


def main() -> None:
    print(f"offline plots: {install()} set as DVC's HTML template (.dvc/config.local)")


if __name__ == "__main__":
    main()
