"""What the Data mix page offers for an approved version: its manifest (written once to the
workspace as `mixes/<name>/v<N>.yaml`), the trainer exports, and the meeting report."""

from __future__ import annotations

import streamlit as st

from analysis import filter_settings, manifest
from analysis.mix_build import manifest_data
from analysis.mix_export import FORMATS, export
from analysis.tokenizer import fingerprint as tokenizer_fingerprint
from analysis.workspace import Workspace


def show(workspace: str, record: dict) -> None:
    ws = Workspace(workspace)
    path = manifest.path_for(ws, record["name"], record["version"])
    if not path.exists():
        with st.spinner("Fingerprinting the sources for the manifest…"):
            data = manifest_data(record, str(tokenizer_fingerprint(record["data"].get("tokenizer", "cl100k_base"))),
                                 filter_settings.load(ws))
            manifest.write(data, path)
    approved = manifest.read(path)
    st.success(f"Approved: manifest {path} (sha256 {approved['sha256'][:12]}…). "
               f"A training job checks it with `mixlens mix verify {path} PATH...`.")
    cols = st.columns(len(FORMATS) + 1)
    cols[0].download_button("Manifest (YAML)", path.read_bytes(), path.name, key="mix_download_manifest")
    for col, fmt in zip(cols[1:], FORMATS):
        try:
            col.download_button(fmt, export(approved, fmt), f"{record['name']}-v{record['version']}-{fmt}.txt",
                                key=f"mix_download_{fmt}")
        except ValueError as exc:  # a format that cannot express this mix
            col.caption(f"{fmt}: {exc}")
    st.caption("`mixlens mix export MANIFEST --format materialize --out DIR` writes the mixed, filtered dataset itself.")
