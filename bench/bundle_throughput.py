#!/usr/bin/env python3
"""Bundle creation throughput: `provision bundle --manifest` of a synthetic model file (copy + sha256
+ MANIFEST, fsync'd), `provision bundle PLAY --model-store` of the same bytes as an Ollama model's blob (copy +
sha256 checked against the blob's name + MANIFEST), beside the physical reference `tar -cf` + `sha256sum` of the same file, and
`provision bundle split` (pack into parts) beside `split -b` + `sha256sum` of the parts. Same run,
same disk, page cache warmed by one read first.

    python3 bench/bundle_throughput.py [--size-mb 2048] [--dir /var/tmp] [--binary .build/release/provision]
"""
import argparse, hashlib, json, os, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(argv, **kw):
    start = time.monotonic()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=2048)
    ap.add_argument("--dir", default="/var/tmp")
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/provision"))
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary}: build it first (swift build -c release)")
    work = tempfile.mkdtemp(prefix="bundle-bench-", dir=args.dir)
    try:
        model = os.path.join(work, "model.gguf")
        with open(model, "wb") as f:
            chunk = os.urandom(1 << 20)
            for _ in range(args.size_mb):
                f.write(chunk)
        subprocess.run(["cat", model], check=True, stdout=subprocess.DEVNULL)
        manifest = os.path.join(work, "deploy.toml")
        with open(manifest, "w") as f:
            f.write('[package]\nname = "bench"\nversion = "1"\n[install]\nprefix = "/opt/bench"\n'
                    '[[components]]\ntype = "model-file"\nname = "model"\nsource.type = "file"\n'
                    f'source.path = "{model}"\ninstall_path = "models/model.gguf"\n')
        mb = args.size_mb
        bundle = os.path.join(work, "bundle")
        t_bundle = timed([args.binary, "bundle", "--manifest", manifest, "--binary", "/bin/true", "-o", bundle], stderr=subprocess.DEVNULL)
        # The same bytes as an Ollama model store's blob (hard-linked in), bundled for a play's ollama_model task.
        digest = hashlib.sha256()
        with open(model, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        store = os.path.join(work, "store")
        os.makedirs(os.path.join(store, "blobs"))
        os.makedirs(os.path.join(store, "manifests/registry.ollama.ai/library/bench"))
        os.link(model, os.path.join(store, "blobs", "sha256-" + digest.hexdigest()))
        with open(os.path.join(store, "manifests/registry.ollama.ai/library/bench/big"), "w") as f:
            json.dump({"schemaVersion": 2, "layers": [{"digest": "sha256:" + digest.hexdigest(), "size": mb << 20}]}, f)
        os.makedirs(os.path.join(work, "project/playbooks"))
        play = os.path.join(work, "project/playbooks/site.yml")
        with open(play, "w") as f:
            f.write("- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
                    "    - ollama_model: {name: 'bench:big', instance: ollama-bench}\n")
        t_models = timed([args.binary, "bundle", play, "--model-store", store, "--binary", "/bin/true", "-o", os.path.join(work, "bundle-models")],
                         stderr=subprocess.DEVNULL)
        shutil.rmtree(os.path.join(work, "bundle-models"))
        t_tar = timed(["tar", "-cf", os.path.join(work, "ref.tar"), "-C", work, "model.gguf"])
        t_sum = timed(["sha256sum", os.path.join(work, "ref.tar")])
        t_sync = timed(["sync"])
        os.remove(os.path.join(work, "ref.tar"))
        parts = os.path.join(work, "parts")
        t_split = timed([args.binary, "bundle", "split", bundle, "--split", "512M", "-o", parts], stderr=subprocess.DEVNULL)
        os.makedirs(os.path.join(work, "refparts"))
        t_ref_split = timed(["split", "-b", "512M", os.path.join(bundle, "project/playbooks/files/model"), os.path.join(work, "refparts/p.")])
        t_ref_split += timed(["sh", "-c", f"sha256sum {work}/refparts/p.*"]) + timed(["sync"])
        shutil.rmtree(parts)
        t_join_dir = os.path.join(work, "joined")
        subprocess.run([args.binary, "bundle", "split", bundle, "--split", "512M", "-o", parts], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t_join = timed([args.binary, "bundle", "join", parts, "-o", t_join_dir], stderr=subprocess.DEVNULL)
        print(f"synthetic model: {mb} MiB in {work}")
        print(f"provision bundle --manifest (copy+sha256+fsync): {t_bundle:7.2f} s  {mb / t_bundle:8.1f} MiB/s")
        print(f"provision bundle PLAY --model-store (blob):      {t_models:7.2f} s  {mb / t_models:8.1f} MiB/s")
        print(f"tar -cf + sha256sum + sync (reference):           {t_tar + t_sum + t_sync:7.2f} s  {mb / (t_tar + t_sum + t_sync):8.1f} MiB/s"
              f"  (tar {t_tar:.2f} s, sha256sum {t_sum:.2f} s)")
        print(f"provision bundle split 512M (verify+pack):       {t_split:7.2f} s  {mb / t_split:8.1f} MiB/s")
        print(f"split -b 512M + sha256sum + sync (reference):     {t_ref_split:7.2f} s  {mb / t_ref_split:8.1f} MiB/s")
        print(f"provision bundle join (check+extract+sha256):     {t_join:7.2f} s  {mb / t_join:8.1f} MiB/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
