"""Download the benchmark file the way a Python user would, timing only the library call.

    pyfetch.py pooch URL SHA256 DEST_DIR
    pyfetch.py hf    REPO_ID FILENAME REVISION CACHE_DIR   (HF_ENDPOINT must point at the server)

Prints the seconds spent inside the call (interpreter start-up and imports excluded) on the
last line of stdout, and the path of the downloaded file on the line before.
"""

import os
import sys
import time


def main() -> None:
    tool = sys.argv[1]
    if tool == "pooch":
        import pooch

        url, sha256, dest = sys.argv[2:5]
        t0 = time.perf_counter()
        # What the pooch docs show for a single file: download to a temp file, hash it
        # (hashlib), compare with known_hash, move into place. Defaults otherwise.
        path = pooch.retrieve(
            url, known_hash=f"sha256:{sha256}", fname="big.bin", path=dest, progressbar=False
        )
        t1 = time.perf_counter()
    elif tool == "hf":
        from huggingface_hub import hf_hub_download

        repo_id, filename, revision, cache_dir = sys.argv[2:6]
        t0 = time.perf_counter()
        # HEAD (commit, etag, size) then GET into the blob cache; it checks the size only,
        # not the SHA-256 of the content.
        path = hf_hub_download(
            repo_id=repo_id, filename=filename, revision=revision, cache_dir=cache_dir
        )
        t1 = time.perf_counter()
    else:
        sys.exit(f"unknown tool {tool!r}")
    print(os.path.realpath(path))
    print(f"{t1 - t0:.6f}")


if __name__ == "__main__":
    main()
