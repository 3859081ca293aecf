"""Build greeting-1.0-py3-none-any.whl into the folder given, offline, with the standard library only.

A wheel is a zip holding the package and a .dist-info folder (METADATA, WHEEL, RECORD);
this is all pip needs to install it from a --find-links folder.
"""
import base64
import hashlib
import sys
import zipfile
from pathlib import Path

NAME, VERSION = "greeting", "1.0"
source = Path(__file__).parent / NAME
dist_info = f"{NAME}-{VERSION}.dist-info"
files = {f"{NAME}/{path.name}": path.read_bytes() for path in sorted(source.glob("*.py"))}
files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n".encode()
files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: make_wheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


record = "\n".join([record_line(name, data) for name, data in files.items()] + [f"{dist_info}/RECORD,,", ""])
files[f"{dist_info}/RECORD"] = record.encode()

target = Path(sys.argv[1]) / f"{NAME}-{VERSION}-py3-none-any.whl"
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
    for name, data in files.items():
        wheel.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)
print(target)
