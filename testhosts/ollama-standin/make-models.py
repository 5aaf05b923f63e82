#!/usr/bin/env python3
"""Writes SYNTHETIC models for the Ollama stand-in into an Ollama model store folder:
manifests/registry.ollama.ai/library/NAME/TAG (the manifest, JSON as Ollama writes it) and blobs/sha256-HEX
(a GGUF header with the model's metadata, then deterministic pseudo-random bytes; a template, params, license and
config blob). They are not language models; their bytes depend only on name, tag and size, so every run and every
machine makes the same digests.

    make-models.py DIR                         the default models (see DEFAULTS)
    make-models.py DIR NAME:TAG=SIZE ...       others, e.g. bench:2g=2G (sizes in bytes, or with K, M, G: 2^10...)

A model already in DIR with all its blobs is kept (the 2 GB one is made once); --force makes it again.
Standard library only (python3 >= 3.9).
"""

import hashlib
import json
import os
import random
import re
import struct
import sys

# name:tag -> (model blob size, architecture, parameter size, context length, quantization)
DEFAULTS = {
    "granite4:latest": (3 << 20, "granite", "3.4B", 131072, "Q4_K_M"),
    "qwen2.5-coder:7b": (4 << 20, "qwen2", "7.6B", 32768, "Q4_K_M"),
}
FILE_TYPES = {"F16": 1, "Q4_0": 2, "Q8_0": 7, "Q4_K_M": 15}
TEMPLATES = {
    "granite": "{{- if .System }}<|start_of_role|>system<|end_of_role|>{{ .System }}<|end_of_text|>\n{{ end }}"
               "<|start_of_role|>user<|end_of_role|>{{ .Prompt }}<|end_of_text|>\n"
               "<|start_of_role|>assistant<|end_of_role|>{{ .Response }}",
    "qwen2": "{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>\n"
             "{{- else }}{{ if .Tools }}<tools>{{ range .Tools }}{{ . }}{{ end }}</tools>{{ end }}"
             "<|im_start|>user\n{{ .Prompt }}<|im_end|>\n<|im_start|>assistant\n{{ .Response }}{{ end }}",
}
STOPS = {"granite": ["<|end_of_text|>"], "qwen2": ["<|im_start|>", "<|im_end|>"]}
LICENSE = ("Synthetic model made by provision's Ollama stand-in (testhosts/ollama-standin/make-models.py).\n"
           "Deterministic bytes for tests; it holds no weights and no licensed content.\n")
REGISTRY = "registry.ollama.ai"


def gguf_header(arch, parameters, context, quantization, name):
    def string(text):
        data = text.encode()
        return struct.pack("<Q", len(data)) + data

    entries = [("general.architecture", 8, arch), ("general.name", 8, name),
               ("general.description", 8, "ollama stand-in synthetic model: deterministic bytes, no weights"),
               ("general.parameter_count", 10, int(float(parameters.rstrip("B")) * 1e9)),
               ("general.file_type", 4, FILE_TYPES.get(quantization, 15)), ("general.quantization_version", 4, 2),
               (f"{arch}.context_length", 4, context), (f"{arch}.embedding_length", 4, 2048),
               (f"{arch}.block_count", 4, 32)]
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(entries))
    for key, kind, value in entries:
        out += string(key) + struct.pack("<I", kind)
        out += string(value) if kind == 8 else struct.pack("<Q" if kind == 10 else "<I", value)
    return out


def write_blob(blobs, chunks):
    """Writes chunks to blobs/sha256-HEX (content-addressed, through a temporary file); returns (digest, size)."""
    hasher, size = hashlib.sha256(), 0
    temporary = os.path.join(blobs, f".incoming-{os.getpid()}")
    with open(temporary, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            hasher.update(chunk)
            size += len(chunk)
    digest = hasher.hexdigest()
    os.replace(temporary, os.path.join(blobs, "sha256-" + digest))
    return "sha256:" + digest, size


def model_bytes(seed, header, size):
    yield header
    rest, generator = size - len(header), random.Random(seed)
    while rest > 0:
        step = min(rest, 1 << 20)
        yield generator.randbytes(step)
        rest -= step


def complete(root, manifest_path):
    try:
        with open(manifest_path, "rb") as handle:
            manifest = json.load(handle)
        layers = manifest["layers"] + [manifest["config"]]
        return all(os.path.getsize(os.path.join(root, "blobs", layer["digest"].replace(":", "-"))) == layer["size"]
                   for layer in layers)
    except (OSError, ValueError, KeyError):
        return False


def make(root, name, tag, size, arch, parameters, context, quantization, force):
    manifest_path = os.path.join(root, "manifests", REGISTRY, "library", name, tag)
    if not force and complete(root, manifest_path):
        return False
    blobs = os.path.join(root, "blobs")
    os.makedirs(blobs, exist_ok=True)
    header = gguf_header(arch, parameters, context, quantization, f"{name}:{tag}")
    if size < len(header):
        raise SystemExit(f"{name}:{tag}: a model blob needs at least {len(header)} bytes")
    texts = [("model", model_bytes(f"{name}:{tag}:{size}", header, size)),
             ("template", [TEMPLATES.get(arch, TEMPLATES["granite"]).encode()]),
             ("license", [LICENSE.encode()]),
             ("params", [json.dumps({"stop": STOPS.get(arch, STOPS["granite"]), "temperature": 0},
                                    separators=(",", ":")).encode()])]
    layers = []
    for kind, chunks in texts:
        digest, length = write_blob(blobs, chunks)
        layers.append({"mediaType": f"application/vnd.ollama.image.{kind}", "digest": digest, "size": length})
    config = {"model_format": "gguf", "model_family": arch, "model_families": [arch], "model_type": parameters,
              "file_type": quantization, "architecture": "amd64", "os": "linux",
              "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]}}
    config_digest, config_size = write_blob(blobs, [json.dumps(config, separators=(",", ":")).encode()])
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": config_digest,
                           "size": config_size},
                "layers": layers}
    os.makedirs(os.path.dirname(manifest_path), exist_ok=True)
    with open(manifest_path + ".tmp", "w") as handle:
        handle.write(json.dumps(manifest, separators=(",", ":")))
    os.replace(manifest_path + ".tmp", manifest_path)
    return True


def parse_size(text):
    match = re.fullmatch(r"(\d+)([KMG]?)", text.strip().upper())
    if not match:
        raise SystemExit(f"size {text!r}: write bytes, or a number with K, M or G")
    return int(match.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[match.group(2)]


def main(arguments):
    force = "--force" in arguments
    arguments = [argument for argument in arguments if argument != "--force"]
    if not arguments or arguments[0].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root, specs = arguments[0], arguments[1:]
    wanted = {}
    for spec in specs:
        match = re.fullmatch(r"([a-z0-9_][a-z0-9_.-]*):([a-zA-Z0-9_][a-zA-Z0-9_.-]*)=(\S+)", spec)
        if not match:
            raise SystemExit(f"{spec!r}: write NAME:TAG=SIZE, e.g. bench:2g=2G")
        key = f"{match.group(1)}:{match.group(2)}"
        known = DEFAULTS.get(key, (0, "granite", "3.4B", 131072, "Q4_K_M"))
        wanted[key] = (parse_size(match.group(3)),) + known[1:]
    for key, (size, arch, parameters, context, quantization) in (wanted or DEFAULTS).items():
        name, tag = key.split(":")
        made = make(root, name, tag, size, arch, parameters, context, quantization, force)
        print(f"{'made' if made else 'kept'} {key} ({size} bytes) in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
