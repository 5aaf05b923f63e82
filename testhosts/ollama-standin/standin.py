#!/usr/bin/python3
"""A STAND-IN for the Ollama server and its `ollama` command, for provision's tests. It is not Ollama and runs
no model: it speaks Ollama's HTTP API (the parts provision uses), keeps models in Ollama's store layout, and pulls
them, as real transfers with real sha256 digests, from a small local registry (`ollama standin-registry`).

    ollama serve                      the API server (OLLAMA_HOST, default 127.0.0.1:11434; OLLAMA_MODELS;
                                      OLLAMA_NOPRUNE; OLLAMA_STANDIN_REGISTRY = the base URL that stands in
                                      for https://registry.ollama.ai, e.g. http://127.0.0.1:11600)
    ollama list | ps | pull [--insecure] NAME | show [--modelfile|--template|--parameters|--license] NAME
    ollama rm NAME... | --version     the client side, over HTTP like the real CLI
    ollama standin-registry [--root DIR] [--listen ADDR:PORT] [--host HOST] [--rate BYTES_PER_SECOND]
                                      serves an Ollama model store (manifests/HOST/NS/MODEL/TAG + blobs/sha256-HEX)
                                      as a v2 registry: /v2/NS/MODEL/manifests/TAG and /v2/NS/MODEL/blobs/DIGEST

Only the Python standard library is used, so it also runs outside its image on any python3 >= 3.9.
See README.md beside this file.
"""

import hashlib
import http.client
import http.server
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse

VERSION = "0.12.6"
DEFAULT_REGISTRY = "registry.ollama.ai"
DEFAULT_PORT = 11434
MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
DIGEST = re.compile(r"^sha256[:-]([0-9a-fA-F]{64})$")
CHUNK = 1 << 20


def dump(value):
    """JSON as Go's encoding/json writes it: compact, UTF-8, with <, > and & escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for plain, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                           ("\u2029", "\\u2029")):
        text = text.replace(plain, escaped)
    return text.encode()


def log(level, message, **fields):
    extra = "".join(f" {key}={json.dumps(str(value))}" for key, value in fields.items())
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    sys.stderr.write(f"time={stamp} level={level} source=standin msg={json.dumps(message)}{extra}\n")
    sys.stderr.flush()


# ---- OLLAMA_HOST, read as Ollama's envconfig.Host() does -------------------------------------------------------

def parse_host(value):
    """(scheme, host, port) from an OLLAMA_HOST value: "", "0.0.0.0", ":11434", "h:p", "http://h:p", "[::]:p"."""
    value = (value or "").strip().strip("\"'")
    scheme, sep, hostport = value.partition("://")
    default_port = DEFAULT_PORT
    if not sep:
        scheme, hostport = "http", value
    elif scheme == "http":
        default_port = 80
    elif scheme == "https":
        default_port = 443
    hostport = hostport.split("/", 1)[0]
    host, port = None, None
    match = re.match(r"^\[([^\]]*)\]:(.*)$", hostport) or re.match(r"^([^:\[\]]*):([^:]*)$", hostport)
    if match:
        host, port = match.group(1), match.group(2)
    else:
        host = hostport.strip("[]") if hostport else "127.0.0.1"
    try:
        number = int(port) if port is not None else default_port
        if not 0 <= number <= 65535:
            raise ValueError(port)
    except ValueError:
        log("WARN", "invalid port, using default", port=port, default=default_port)
        number = default_port
    return scheme, host, number


def join_host_port(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# ---- model names, as Ollama's types/model.ParseName reads them -------------------------------------------------

PART = {
    "host": re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,349}$"),
    "namespace": re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,79}$"),
    "model": re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$"),
    "tag": re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$"),
}


class ModelName:
    def __init__(self, host, namespace, model, tag):
        self.host, self.namespace, self.model, self.tag = host, namespace, model, tag

    @staticmethod
    def parse(text):
        """The name with defaults filled in, or None when it is not a valid model name."""
        text = (text or "").strip().split("@", 1)[0]
        tag = "latest"
        colon = text.rfind(":")
        if colon > text.rfind("/"):
            text, tag = text[:colon], text[colon + 1:]
        parts = text.split("/")
        if len(parts) > 3 or not parts[-1]:
            return None
        host, namespace = DEFAULT_REGISTRY, "library"
        if len(parts) == 3:
            host, namespace = parts[0], parts[1]
        elif len(parts) == 2:
            namespace = parts[0]
        name = ModelName(host, namespace, parts[-1], tag)
        if all(PART[key].match(getattr(name, key)) for key in PART):
            return name
        return None

    def parts(self):
        return [self.host, self.namespace, self.model, self.tag]

    def shortest(self):
        if self.host == DEFAULT_REGISTRY and self.namespace == "library":
            return f"{self.model}:{self.tag}"
        if self.host == DEFAULT_REGISTRY:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"


# ---- the model store: manifests/HOST/NS/MODEL/TAG and blobs/sha256-HEX ----------------------------------------

class Store:
    def __init__(self, root):
        self.root = root
        self.manifests = os.path.join(root, "manifests")
        self.blobs = os.path.join(root, "blobs")
        self.lock = threading.Lock()  # manifest writes and deletions, so a prune never races a pull's manifest
        self.blob_locks = {}

    @staticmethod
    def default_root():
        if os.environ.get("OLLAMA_MODELS"):
            return os.environ["OLLAMA_MODELS"]
        return os.path.join(os.path.expanduser("~"), ".ollama", "models")

    def blob_path(self, digest):
        match = DIGEST.match(digest or "")
        if not match:
            raise ValueError(f"invalid digest format: {digest!r}")
        return os.path.join(self.blobs, "sha256-" + match.group(1).lower())

    def blob_lock(self, digest):
        with self.lock:
            return self.blob_locks.setdefault(digest, threading.Lock())

    def manifest_path(self, name):
        return os.path.join(self.manifests, *name.parts())

    def names(self):
        """Every stored model: (ModelName, manifest path)."""
        found = []
        try:
            hosts = sorted(os.listdir(self.manifests))
        except FileNotFoundError:
            return found
        for host in hosts:
            for namespace in listdir(os.path.join(self.manifests, host)):
                for model in listdir(os.path.join(self.manifests, host, namespace)):
                    for tag in listdir(os.path.join(self.manifests, host, namespace, model)):
                        path = os.path.join(self.manifests, host, namespace, model, tag)
                        name = ModelName(host, namespace, model, tag)
                        if os.path.isfile(path) and all(PART[key].match(getattr(name, key)) for key in PART):
                            found.append((name, path))
        return found

    def find(self, name):
        """The stored manifest path for a name, matched case-insensitively as Ollama does, or None."""
        path = self.manifest_path(name)
        if os.path.isfile(path):
            return path
        wanted = [part.lower() for part in name.parts()]
        for stored, stored_path in self.names():
            if [part.lower() for part in stored.parts()] == wanted:
                return stored_path
        return None

    @staticmethod
    def read_manifest(path):
        with open(path, "rb") as handle:
            data = handle.read()
        return json.loads(data), hashlib.sha256(data).hexdigest()

    @staticmethod
    def layers(manifest):
        layers = list(manifest.get("layers") or [])
        if (manifest.get("config") or {}).get("digest"):
            layers.append(manifest["config"])
        return layers

    def referenced(self, skip=None):
        digests = set()
        for _, path in self.names():
            if path == skip:
                continue
            manifest, _ = self.read_manifest(path)
            digests.update(layer["digest"] for layer in self.layers(manifest))
        return digests

    def write_manifest(self, name, data):
        path = self.manifest_path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    def remove_unreferenced(self, candidates):
        """Removes the blobs among candidates that no manifest references; returns how many went."""
        keep = self.referenced()
        removed = 0
        for digest in candidates:
            if digest in keep:
                continue
            try:
                os.remove(self.blob_path(digest))
                removed += 1
            except (FileNotFoundError, ValueError):
                pass
        return removed

    def prune_directories(self, path=None):
        """Removes empty folders under manifests/, as Ollama's PruneDirectory does."""
        path = path or self.manifests
        if not os.path.isdir(path) or os.path.islink(path):
            return
        for entry in os.listdir(path):
            self.prune_directories(os.path.join(path, entry))
        if path != self.manifests and not os.listdir(path):
            os.rmdir(path)

    def start_up(self, prune):
        """What Ollama's server does before it listens: fix blob names, then (unless OLLAMA_NOPRUNE) remove
        blobs no manifest references and partial downloads, and empty manifest folders."""
        os.makedirs(self.blobs, exist_ok=True)
        os.makedirs(self.manifests, exist_ok=True)
        for entry in os.listdir(self.blobs):
            if entry.startswith("sha256:"):
                os.replace(os.path.join(self.blobs, entry), os.path.join(self.blobs, entry.replace(":", "-")))
        if not prune:
            return
        try:
            keep = self.referenced()
        except (OSError, ValueError, KeyError, TypeError) as error:
            log("WARN", "corrupt manifests detected, skipping prune operation.  Re-pull or delete to clear",
                error=error)
            return
        blobs = os.listdir(self.blobs)
        valid = [entry for entry in blobs if DIGEST.match(entry)]
        log("INFO", f"total blobs: {len(valid)}")
        removed = 0
        for entry in blobs:
            digest = entry.replace("-", ":", 1)
            if DIGEST.match(entry) and digest in keep:
                continue
            try:
                os.remove(os.path.join(self.blobs, entry))
                removed += DIGEST.match(entry) is not None
            except OSError as error:
                log("WARN", "couldn't remove blob", blob=entry, error=error)
        log("INFO", f"total unused blobs removed: {removed}")
        self.prune_directories()


def listdir(path):
    try:
        return sorted(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError):
        return []


# ---- GGUF metadata (the key/value header of a model blob) ----------------------------------------------------

GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q",
                12: "<d"}


def gguf_metadata(path, verbose=False):
    """The key/value metadata of a GGUF file ({} when it is not one). Arrays longer than 5 read as [] unless
    verbose, as `ollama show` does."""
    with open(path, "rb") as handle:
        if handle.read(4) != b"GGUF":
            return {}
        version, _tensors, count = struct.unpack("<IQQ", handle.read(20))
        if version < 2:
            return {}

        def string():
            (length,) = struct.unpack("<Q", handle.read(8))
            return handle.read(length).decode("utf-8", "replace")

        def value(kind):
            if kind == 8:
                return string()
            if kind == 9:
                element, length = struct.unpack("<IQ", handle.read(12))
                items = [value(element) for _ in range(length)]
                return items if verbose or length <= 5 else []
            fmt = GGUF_SCALARS[kind]
            return struct.unpack(fmt, handle.read(struct.calcsize(fmt)))[0]

        return {string(): value(struct.unpack("<I", handle.read(4))[0]) for _ in range(count)}


# ---- the API server ------------------------------------------------------------------------------------------

class APIError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class PullError(Exception):
    pass


def go_time(seconds_ns):
    """A file time as Go's RFC 3339 with nanoseconds writes it (time.Time in JSON)."""
    seconds, nanos = divmod(seconds_ns, 1_000_000_000)
    local = time.localtime(seconds)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", local)
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    offset = local.tm_gmtoff
    if offset == 0:
        return text + "Z"
    sign = "+" if offset > 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def now_time():
    return go_time(time.time_ns())


class Registry:
    """Where a pull fetches from: OLLAMA_STANDIN_REGISTRY for registry.ollama.ai, http://HOST for other hosts
    (with insecure, as Ollama itself needs for a plain-http registry)."""

    def __init__(self, name, insecure):
        if name.host == DEFAULT_REGISTRY:
            base = os.environ.get("OLLAMA_STANDIN_REGISTRY", "").strip()
            if not base:
                raise PullError(
                    f'pull model manifest: Get "https://{DEFAULT_REGISTRY}/v2/{name.namespace}/{name.model}'
                    f'/manifests/{name.tag}": this Ollama stand-in has no internet registry: set '
                    "OLLAMA_STANDIN_REGISTRY to the stand-in registry's URL (http://HOST:PORT)")
        elif insecure:
            base = "http://" + name.host
        else:
            raise PullError(f"pull model manifest: the Ollama stand-in speaks only http: pull {name.shortest()} "
                            "with insecure: true")
        url = urllib.parse.urlsplit(base)
        if url.scheme != "http" or not url.hostname:
            raise PullError(f"OLLAMA_STANDIN_REGISTRY must be an http://HOST[:PORT] URL, not {base!r}")
        self.host, self.port = url.hostname, url.port or 80
        self.prefix = url.path.rstrip("/")
        self.display = base.rstrip("/")
        self.repository = f"{name.namespace}/{name.model}"

    def get(self, path, accept=None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"User-Agent": f"ollama/{VERSION} (amd64 linux) ollama-standin"}
        if accept:
            headers["Accept"] = accept
        connection.request("GET", self.prefix + path, headers=headers)
        return connection, connection.getresponse()

    def url(self, path):
        return self.display + path


class Server:
    def __init__(self, store):
        self.store = store

    # -- pull, as Ollama's PullModel: manifest, each blob, verify, write the manifest, drop unused layers --
    def pull(self, name, insecure, emit):
        existing = self.store.find(name)
        delete = set()
        if existing:
            try:
                delete = {layer["digest"] for layer in Store.layers(Store.read_manifest(existing)[0])}
            except (OSError, ValueError, KeyError, TypeError) as error:
                log("WARN", "pulling model with bad existing manifest", name=name.shortest(), error=error)
        registry = Registry(name, insecure)
        emit({"status": "pulling manifest"})
        path = f"/v2/{registry.repository}/manifests/{name.tag}"
        try:
            connection, response = registry.get(path, accept=MANIFEST_MEDIA_TYPE)
            body = response.read()
            connection.close()
        except OSError as error:
            raise PullError(f'pull model manifest: Get "{registry.url(path)}": {error}') from None
        if response.status == 404:
            raise PullError("pull model manifest: file does not exist")
        if response.status >= 400:
            raise PullError(f"pull model manifest: {response.status}: {body.decode('utf-8', 'replace')}")
        try:
            manifest = json.loads(body)
            layers = Store.layers(manifest)
            for layer in layers:
                self.store.blob_path(layer["digest"])
                int(layer["size"])
        except (ValueError, KeyError, TypeError) as error:
            raise PullError(f"pull model manifest: {error}") from None
        fresh = {}
        for layer in layers:
            fresh[layer["digest"]] = self.download(registry, layer, emit)
        emit({"status": "verifying sha256 digest"})
        for layer in layers:
            actual = fresh[layer["digest"]]
            if actual is not None and "sha256:" + actual != layer["digest"].lower():
                try:
                    os.remove(self.store.blob_path(layer["digest"]))
                except FileNotFoundError:
                    pass
                raise PullError(f"digest mismatch, file must be downloaded again: want {layer['digest']}, "
                                f"got sha256:{actual}")
        delete -= {layer["digest"] for layer in layers}
        emit({"status": "writing manifest"})
        with self.store.lock:
            self.store.write_manifest(name, dump(manifest))
        if delete and not os.environ.get("OLLAMA_NOPRUNE"):
            emit({"status": "removing unused layers"})
            with self.store.lock:
                self.store.remove_unreferenced(delete)
        emit({"status": "success"})

    def download(self, registry, layer, emit):
        """Fetches one blob unless present; returns the sha256 of what arrived, or None for a cache hit."""
        digest, size = layer["digest"], int(layer["size"])
        path = self.store.blob_path(digest)
        status = f"pulling {digest[7:19]}"
        with self.store.blob_lock(digest):
            if os.path.exists(path):
                done = os.path.getsize(path)
                emit({"status": status, "digest": digest, "total": done, "completed": done})
                return None
            partial = path + "-partial"
            hasher, completed, reported, last = hashlib.sha256(), 0, 0, time.monotonic()
            blob_path = f"/v2/{registry.repository}/blobs/{digest}"
            try:
                connection, response = registry.get(blob_path)
                if response.status >= 400:
                    raise PullError(f"{response.status}: {response.read().decode('utf-8', 'replace')}")
                total = int(response.getheader("Content-Length") or size)
                with open(partial, "wb") as handle:
                    while True:
                        data = response.read1(CHUNK)
                        if not data:
                            break
                        handle.write(data)
                        hasher.update(data)
                        completed += len(data)
                        if time.monotonic() - last >= 0.06:  # Ollama reports each 60 ms
                            last, reported = time.monotonic(), completed
                            emit(progress(status, digest, total, completed))
                    handle.flush()
                    os.fsync(handle.fileno())
                connection.close()
                if completed != total:
                    raise PullError(f"unexpected EOF: {completed} of {total} bytes")
                os.replace(partial, path)
            except OSError as error:
                raise PullError(f'Get "{registry.url(blob_path)}": {error}') from None
            finally:
                if os.path.exists(partial):
                    os.remove(partial)
            if reported != completed:
                emit(progress(status, digest, total, completed))
            return hasher.hexdigest()

    # -- the other endpoints --
    def model(self, text, field="model"):
        name = ModelName.parse(text)
        if name is None:
            raise APIError(400, "invalid model name" if text else f"{field} is required")
        return name

    def stored(self, text):
        name = self.model(text)
        path = self.store.find(name)
        if path is None:
            raise APIError(404, f"model '{text}' not found")
        return name, path

    def tags(self):
        models = []
        for name, path in self.store.names():
            try:
                manifest, digest = Store.read_manifest(path)
                config = self.config(manifest)
                size = sum(int(layer.get("size", 0)) for layer in Store.layers(manifest))
            except (OSError, ValueError, KeyError, TypeError) as error:
                log("WARN", "bad manifest", name=name.shortest(), error=error)
                continue
            models.append((os.stat(path).st_mtime_ns, {
                "name": name.shortest(), "model": name.shortest(), "modified_at": go_time(os.stat(path).st_mtime_ns),
                "size": size, "digest": digest, "details": self.details(config)}))
        models.sort(key=lambda item: -item[0])
        return {"models": [model for _, model in models]}

    def config(self, manifest):
        digest = (manifest.get("config") or {}).get("digest")
        if not digest:
            return {}
        with open(self.store.blob_path(digest), "rb") as handle:
            return json.load(handle)

    @staticmethod
    def details(config):
        return {"parent_model": "", "format": config.get("model_format", ""), "family": config.get("model_family", ""),
                "families": config.get("model_families"), "parameter_size": config.get("model_type", ""),
                "quantization_level": config.get("file_type", "")}

    def show(self, request):
        name, path = self.stored(request.get("model") or request.get("name"))
        manifest, _ = Store.read_manifest(path)
        config = self.config(manifest)
        texts = {"template": "", "system": "", "license": []}
        options, model_path, info = {}, "", {}
        for layer in manifest.get("layers") or []:
            blob = self.store.blob_path(layer["digest"])
            kind = layer.get("mediaType", "").rsplit(".", 1)[-1]
            if kind == "model":
                model_path = blob
                info = gguf_metadata(blob, bool(request.get("verbose")))
            elif kind in ("template", "prompt", "system"):
                with open(blob, encoding="utf-8") as handle:
                    texts["system" if kind == "system" else "template"] = handle.read()
            elif kind == "license":
                with open(blob, encoding="utf-8") as handle:
                    texts["license"].append(handle.read())
            elif kind == "params":
                with open(blob, encoding="utf-8") as handle:
                    options = json.load(handle)
        for key in ("general.name", "tokenizer.chat_template"):
            info.pop(key, None)
        pairs = [(key, json.dumps(item) if isinstance(item, str) else str(item)) for key, value in options.items()
                 for item in (value if isinstance(value, list) else [value])]
        modelfile = ["# Modelfile generated by \"ollama show\"",
                     "# To build a new Modelfile based on this, replace FROM with:",
                     f"# FROM {name.shortest()}", "", f"FROM {model_path}"]
        if texts["template"]:
            modelfile.append(f'TEMPLATE """{texts["template"]}"""')
        if texts["system"]:
            modelfile.append(f'SYSTEM """{texts["system"]}"""')
        modelfile += [f"PARAMETER {key} {value}" for key, value in pairs]
        modelfile += [f'LICENSE """{text}"""' for text in texts["license"]]
        capabilities = ["completion"]
        if ".Tools" in texts["template"]:
            capabilities.append("tools")
        if ".Suffix" in texts["template"]:
            capabilities.append("insert")
        return {"license": "\n".join(texts["license"]), "modelfile": "\n".join(modelfile) + "\n",
                "parameters": "\n".join(f"{key:<30} {value}" for key, value in pairs),
                "template": texts["template"], "system": texts["system"],
                "details": self.details(config), "model_info": info, "capabilities": capabilities,
                "modified_at": go_time(os.stat(path).st_mtime_ns)}

    def delete(self, request):
        text = request.get("model") or request.get("name")
        if ModelName.parse(text) is None:
            raise APIError(400, f"name {json.dumps(text or '')} is invalid")
        _, path = self.stored(text)
        with self.store.lock:
            manifest, _ = Store.read_manifest(path)
            os.remove(path)
            self.store.prune_directories()
            self.store.remove_unreferenced({layer["digest"] for layer in Store.layers(manifest)})

    def answer(self, request, chat):
        """/api/generate and /api/chat: a fixed reply, streamed word by word (no model runs here)."""
        name, _ = self.stored(request.get("model"))
        model = request.get("model")
        empty = not (request.get("messages") if chat else request.get("prompt"))
        base = {"model": model, "created_at": now_time()}
        if empty:
            done = dict(base, done=True, done_reason="unload" if request.get("keep_alive") == 0 else "load")
            if chat:
                done["message"] = {"role": "assistant", "content": ""}
            else:
                done["response"] = ""
            return [done]
        words = f"This is the Ollama stand-in answering as {name.shortest()}: no language model runs here.".split(" ")
        pieces = [word if i == 0 else " " + word for i, word in enumerate(words)]

        def part(text, done):
            item = dict(base, created_at=now_time())
            if chat:
                item["message"] = {"role": "assistant", "content": text}
            else:
                item["response"] = text
            item["done"] = done
            return item

        final = dict(part("", True), done_reason="stop", total_duration=1_000_000, load_duration=1_000,
                     prompt_eval_count=len(str(request.get("prompt") or request.get("messages")).split()),
                     prompt_eval_duration=1_000, eval_count=len(pieces), eval_duration=1_000_000)
        if not chat:
            final["context"] = [1, 2, 3]
        if request.get("stream") is False:
            whole = part("".join(pieces), True)
            whole.update({key: value for key, value in final.items() if key not in ("message", "response")})
            return [whole]
        return [part(piece, False) for piece in pieces] + [final]

    def put_blob(self, digest, body):
        path = self.store.blob_path(digest)
        if os.path.exists(path):
            return 200
        actual = "sha256:" + hashlib.sha256(body).hexdigest()
        if actual != digest.lower().replace("-", ":", 1):
            raise APIError(400, f"digest mismatch, expected {json.dumps(digest)}, got {json.dumps(actual)}")
        temporary = path + "-partial"
        with open(temporary, "wb") as handle:
            handle.write(body)
        os.replace(temporary, path)
        return 201


def progress(status, digest, total, completed):
    item = {"status": status, "digest": digest}
    if total:
        item["total"] = total
    if completed:
        item["completed"] = completed  # Go's omitempty: absent until some bytes arrived
    return item


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"ollama-standin/{VERSION}"

    def log_message(self, format, *args):  # each request is logged once, in gin's shape, by handle_one_request
        pass

    def version_string(self):
        return self.server_version

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def json_body(self):
        data = self.body()
        if not data.strip():
            raise APIError(400, "missing request body")
        try:
            value = json.loads(data)
        except ValueError as error:
            raise APIError(400, str(error)) from None
        if not isinstance(value, dict):
            raise APIError(400, "json: cannot unmarshal into a request object")
        return value

    def send(self, status, payload=b"", content_type="application/json; charset=utf-8"):
        if isinstance(payload, (dict, list)):
            payload = dump(payload)
        elif isinstance(payload, str):
            payload = payload.encode()
        self.status = status
        self.send_response(status)
        if payload or content_type.startswith("text/"):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def stream(self, items):
        """Sends items as NDJSON in chunks, each as it comes (items may be a generator)."""
        self.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for item in items:
            line = dump(item) + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def handle_one_request(self):
        self.started = time.monotonic()
        self.status = None
        super().handle_one_request()
        if self.status is not None:
            elapsed = (time.monotonic() - self.started) * 1000
            stamp = time.strftime("%Y/%m/%d - %H:%M:%S")
            sys.stderr.write(f"[GIN] {stamp} | {self.status:3d} | {elapsed:10.3f}ms | {self.client_address[0]:>15} |"
                             f" {self.command:<7} {json.dumps(self.path)}\n")
            sys.stderr.flush()

    def do_HEAD(self):
        self.route()

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_DELETE(self):
        self.route()

    def route(self):
        api = self.server.api
        path = urllib.parse.urlsplit(self.path).path
        method = self.command
        try:
            if path == "/" and method in ("GET", "HEAD"):
                self.send(200, "Ollama is running", "text/plain; charset=utf-8")
            elif path == "/api/version" and method in ("GET", "HEAD"):
                self.send(200, {"version": VERSION})
            elif path == "/api/tags" and method in ("GET", "HEAD"):
                self.send(200, api.tags())
            elif path == "/api/ps" and method == "GET":
                self.send(200, {"models": []})
            elif path == "/api/pull" and method == "POST":
                self.pull(self.json_body())
            elif path == "/api/show" and method == "POST":
                self.send(200, api.show(self.json_body()))
            elif path == "/api/delete" and method == "DELETE":
                api.delete(self.json_body())
                self.send(200)
            elif path in ("/api/generate", "/api/chat") and method == "POST":
                request = self.json_body()
                replies = api.answer(request, chat=path == "/api/chat")
                if request.get("stream") is False:
                    self.send(200, replies[-1])
                else:
                    self.stream(replies)
            elif path.startswith("/api/blobs/") and method in ("HEAD", "POST"):
                digest = path[len("/api/blobs/"):]
                try:
                    blob = api.store.blob_path(digest)
                except ValueError as error:
                    raise APIError(400, str(error)) from None
                if method == "HEAD":
                    if os.path.exists(blob):
                        self.send(200)
                    else:
                        self.send(404, {"error": f"blob {json.dumps(digest)} not found"})
                else:
                    self.send(api.put_blob(digest, self.body()))
            else:
                self.send(404, "404 page not found", "text/plain")
        except APIError as error:
            self.send(error.status, {"error": str(error)})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as error:  # an unexpected failure answers 500, as gin's recovery does
            traceback.print_exc()
            if self.status is None:
                self.send(500, {"error": str(error)})
            else:
                self.close_connection = True

    def pull(self, request):
        api = self.server.api
        text = request.get("model") or request.get("name")
        name = api.model(text)
        events, finished = [], threading.Event()

        def run(emit):
            try:
                api.pull(name, bool(request.get("insecure")), emit)
            except PullError as error:
                emit({"error": str(error)})
            except Exception as error:  # noqa: BLE001 -- reported to the client as Ollama does, with HTTP 200
                traceback.print_exc()
                emit({"error": str(error)})

        if request.get("stream") is False:
            run(events.append)
            last = events[-1]
            if "error" in last:
                self.send(500, {"error": last["error"]})
            else:
                self.send(200, last)
            return
        # The pull runs beside the stream so that a slow client never holds the transfer; the stream follows it.
        condition = threading.Condition()

        def emit(item):
            with condition:
                events.append(item)
                condition.notify()

        def worker():
            run(emit)
            with condition:
                finished.set()
                condition.notify()

        threading.Thread(target=worker, daemon=True).start()

        def follow():
            sent = 0
            while True:
                with condition:
                    while sent == len(events) and not finished.is_set():
                        condition.wait()
                    pending, sent = events[sent:], len(events)
                    done = finished.is_set() and sent == len(events)
                yield from pending
                if done:
                    return

        self.stream(follow())


class ThreadingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve_forever(handler, host, port, what, **attributes):
    server_class = type("Server", (ThreadingServer,),
                        {"address_family": socket.AF_INET6 if ":" in host else socket.AF_INET})
    try:
        httpd = server_class((host, port), handler)
    except OSError as error:
        sys.stderr.write(f"Error: listen tcp {join_host_port(host, port)}: bind: {error.strerror}\n")
        return 1
    for key, value in attributes.items():
        setattr(httpd, key, value)

    def stop(*_):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    # As PID 1 in a container a process gets only the signals it handles: handle TERM and INT.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log("INFO", f"Listening on {join_host_port(host or '', port)} ({what})")
    httpd.serve_forever(poll_interval=0.2)
    httpd.server_close()
    return 0


def serve():
    _, host, port = parse_host(os.environ.get("OLLAMA_HOST"))
    settings = {key: value for key, value in sorted(os.environ.items()) if key.startswith("OLLAMA_")}
    log("INFO", "server config", env=settings)
    log("INFO", "this is the Ollama STAND-IN for provision's tests: it runs no model and uses no GPU")
    devices = sorted(entry for entry in listdir("/dev") if entry.startswith("nvidia"))
    if devices:
        log("INFO", "GPU device nodes visible in the container", devices=" ".join(devices))
    store = Store(Store.default_root())
    store.start_up(prune=not os.environ.get("OLLAMA_NOPRUNE"))
    return serve_forever(Handler, host, port, f"version {VERSION}", api=Server(store))


# ---- the registry ----------------------------------------------------------------------------------------------

class RegistryHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"ollama-standin-registry/{VERSION}"
    ROUTE = re.compile(r"^/v2/((?:[A-Za-z0-9_][A-Za-z0-9_.-]*/)*[A-Za-z0-9_][A-Za-z0-9_.-]*)/(manifests|blobs)/([^/]+)$")

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        sys.stderr.write(f"registry: {self.address_string()} {format % args}\n")
        sys.stderr.flush()

    def do_HEAD(self):
        self.route()

    def do_GET(self):
        self.route()

    def fail(self, status, code, message):
        payload = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def route(self):
        root, host = self.server.root, self.server.registry_host
        path = urllib.parse.urlsplit(self.path).path
        if path in ("/v2", "/v2/"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(b"{}")
            return
        match = self.ROUTE.match(path)
        if not match:
            return self.fail(404, "NOT_FOUND", "not found")
        repository, kind, reference = match.groups()
        if kind == "manifests":
            if not PART["tag"].match(reference):
                return self.fail(404, "MANIFEST_UNKNOWN", "manifest unknown")
            file = os.path.join(root, "manifests", host, *repository.split("/"), reference)
            content_type = MANIFEST_MEDIA_TYPE
            missing = ("MANIFEST_UNKNOWN", "manifest unknown")
        else:
            digest = DIGEST.match(reference)
            if not digest or ":" not in reference:
                return self.fail(400, "DIGEST_INVALID", "invalid digest")
            file = os.path.join(root, "blobs", "sha256-" + digest.group(1).lower())
            content_type = "application/octet-stream"
            missing = ("BLOB_UNKNOWN", "blob unknown to registry")
        if not os.path.isfile(file):
            return self.fail(404, *missing)
        size = os.path.getsize(file)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(size))
        if kind == "blobs":
            self.send_header("Docker-Content-Digest", reference)
        self.end_headers()
        if self.command == "HEAD":
            return
        rate, sent, started = self.server.rate, 0, time.monotonic()
        with open(file, "rb") as handle:
            while True:
                data = handle.read(min(CHUNK, max(4096, rate // 20)) if rate else CHUNK)
                if not data:
                    break
                self.wfile.write(data)
                sent += len(data)
                if rate:  # throttled, so that a small pull shows progress as a large one does
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)


def registry(arguments):
    options = {"--root": "/usr/share/ollama-standin/models", "--listen": "127.0.0.1:11600",
               "--host": DEFAULT_REGISTRY, "--rate": "0"}
    rest = list(arguments)
    while rest:
        key = rest.pop(0)
        key, sep, value = key.partition("=")
        if key not in options or (not sep and not rest):
            sys.stderr.write("usage: ollama standin-registry [--root DIR] [--listen ADDR:PORT] [--host HOST] "
                             "[--rate BYTES_PER_SECOND]\n")
            return 2
        options[key] = value if sep else rest.pop(0)
    root = options["--root"]
    if not os.path.isdir(os.path.join(root, "manifests")):
        sys.stderr.write(f"Error: {root} is not an Ollama model store (no manifests/ folder)\n")
        return 1
    _, host, port = parse_host(options["--listen"])
    served = [name.shortest() for name, _ in Store(root).names() if name.host == options["--host"]]
    log("INFO", f"stand-in registry serving {root} as {options['--host']}", models=" ".join(served))
    return serve_forever(RegistryHandler, host, port, "stand-in registry", root=root,
                         registry_host=options["--host"], rate=int(options["--rate"]))


# ---- the client side: `ollama list`, `pull`, ... ---------------------------------------------------------------

class ClientError(Exception):
    pass


class Client:
    def __init__(self):
        scheme, host, port = parse_host(os.environ.get("OLLAMA_HOST"))
        if scheme != "http":
            raise ClientError(f"the Ollama stand-in's client speaks only http, not {scheme}")
        self.host, self.port = host or "127.0.0.1", port

    def request(self, method, path, body=None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=600)
        try:
            data = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json", "Accept": "application/x-ndjson",
                       "User-Agent": f"ollama/{VERSION} (amd64 linux) ollama-standin"}
            connection.request(method, path, body=data, headers=headers)
            return connection, connection.getresponse()
        except OSError as error:
            connection.close()
            raise ClientError(f"could not connect to ollama server, run 'ollama serve' to start it ({error})") \
                from None

    def call(self, method, path, body=None):
        connection, response = self.request(method, path, body)
        data = response.read()
        connection.close()
        if response.status >= 400:
            try:
                raise ClientError(json.loads(data)["error"])
            except (ValueError, KeyError, TypeError):
                raise ClientError(data.decode("utf-8", "replace").strip() or f"HTTP {response.status}") from None
        return json.loads(data) if data.strip() else {}

    def stream(self, path, body):
        connection, response = self.request("POST", path, body)
        try:
            if response.status >= 400:
                data = response.read()
                try:
                    raise ClientError(json.loads(data)["error"])
                except (ValueError, KeyError, TypeError):
                    raise ClientError(data.decode("utf-8", "replace").strip()) from None
            for line in response:
                if line.strip():
                    item = json.loads(line)
                    if item.get("error"):
                        raise ClientError(item["error"])
                    yield item
        finally:
            connection.close()


def human_bytes(size):
    """format.HumanBytes: decimal units."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            value = size / scale
            if value >= 10 or value == int(value):
                return f"{int(value)} {unit}"
            return f"{value:.1f} {unit}"
    return f"{size} B"


def human_time(text):
    match = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)", text or "")
    if not match:
        return "Never"
    then = time.mktime(tuple(int(part) for part in match.groups()) + (0, 0, -1))
    if text.endswith("Z"):
        then -= time.timezone
    seconds = max(0, time.time() - then)
    for limit, size, unit in ((60, 1, "second"), (3600, 60, "minute"), (172800, 3600, "hour"),
                              (1209600, 86400, "day"), (4838400, 604800, "week"), (63072000, 2592000, "month")):
        if seconds < limit:
            count = int(seconds // size)
            if count == 0 and unit == "second":
                return "Less than a second ago"
            if count == 1:
                return {"minute": "About a minute ago", "hour": "About an hour ago"}.get(unit, f"1 {unit} ago")
            return f"{count} {unit}s ago"
    return f"{int(seconds // 31536000)} years ago"


def table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("    ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def cli(arguments):
    if not arguments or arguments[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0
    command, rest = arguments[0], arguments[1:]
    if command == "serve":
        return serve()
    if command == "standin-registry":
        return registry(rest)
    if command in ("-v", "--version"):
        try:
            version = Client().call("GET", "/api/version")["version"]
        except (ClientError, KeyError):
            print("Warning: could not connect to a running Ollama instance")
            print(f"Warning: client version is {VERSION}")
            return 0
        print(f"ollama version is {version}")
        if version != VERSION:
            print(f"Warning: client version is {VERSION}")
        return 0
    flags = {arg for arg in rest if arg.startswith("-")}
    names = [arg for arg in rest if not arg.startswith("-")]
    try:
        client = Client()
        if command in ("list", "ls"):
            rows = [["NAME", "ID", "SIZE", "MODIFIED"]]
            for model in client.call("GET", "/api/tags")["models"]:
                rows.append([model["name"], model["digest"][:12], human_bytes(model["size"]),
                             human_time(model["modified_at"])])
            print(table(rows))
        elif command == "ps":
            client.call("GET", "/api/ps")
            print(table([["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"]]))
        elif command == "pull" and len(names) == 1:
            client.call("HEAD", "/")
            shown = None
            for item in client.stream("/api/pull", {"model": names[0], "insecure": "--insecure" in flags}):
                if item.get("digest"):
                    if item.get("completed") == item.get("total"):
                        sys.stderr.write(f"{item['status']}: 100% {human_bytes(item['total'])}\n")
                elif item["status"] != shown:
                    sys.stderr.write(item["status"] + "\n")
                shown = item["status"]
        elif command == "show" and len(names) == 1:
            shown = client.call("POST", "/api/show", {"model": names[0]})
            for flag, key in (("--modelfile", "modelfile"), ("--template", "template"),
                              ("--parameters", "parameters"), ("--license", "license"), ("--system", "system")):
                if flag in flags:
                    print(shown.get(key, ""))
                    return 0
            info, details = shown.get("model_info") or {}, shown.get("details") or {}
            arch = info.get("general.architecture", details.get("family", ""))
            rows = [["architecture", arch], ["parameters", details.get("parameter_size", "")]]
            for key, label in (("context_length", "context length"), ("embedding_length", "embedding length")):
                if f"{arch}.{key}" in info:
                    rows.append([label, str(info[f"{arch}.{key}"])])
            rows.append(["quantization", details.get("quantization_level", "")])
            print("  Model")
            print("\n".join("    " + line for line in table(rows).splitlines()))
            print("\n  Capabilities")
            print("\n".join("    " + capability for capability in shown.get("capabilities") or []))
            if shown.get("parameters"):
                print("\n  Parameters")
                print("\n".join("    " + line for line in shown["parameters"].splitlines()))
            if shown.get("license"):
                print("\n  License")
                print("\n".join("    " + line for line in shown["license"].splitlines()[:2]))
            print()
        elif command == "rm" and names:
            for name in names:
                client.call("DELETE", "/api/delete", {"model": name})
                print(f"deleted '{name}'")
        elif command in ("list", "ls", "ps", "pull", "show", "rm"):
            sys.stderr.write(f"Error: accepts {'1 arg' if command in ('pull', 'show') else 'args'}, "
                             f"received {len(names)}\n")
            return 1
        else:
            sys.stderr.write(f"Error: unknown command \"{command}\" for \"ollama\"\n")
            return 1
    except ClientError as error:
        sys.stderr.write(f"Error: {error}\n")
        return 1
    except BrokenPipeError:
        return 141
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
