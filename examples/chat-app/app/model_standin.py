"""STAND-IN for the model server (not a model): an Ollama-shaped API answering with canned tokens.

GET /api/tags      the "models" (MODEL_NAME), and which GPUs the container was given
POST /api/generate {"prompt": ...} -> JSON lines, one token each, then {"done": true}
"""
import glob
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = os.environ.get("MODEL_NAME", "stand-in")


def gpus():
    devices = sorted(glob.glob("/dev/nvidia[0-9]*"))
    if devices:
        return devices
    if os.environ.get("PROVISION_GPU_STANDIN"):
        return ["stand-in (CDI nvidia.com/gpu, no device)"]
    return []


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/api/tags":
            self.reply(200, json.dumps({"models": [{"name": MODEL, "stand_in": True}], "gpus": gpus()}))
        else:
            self.reply(404, json.dumps({"error": "not found"}))

    def do_POST(self):
        if self.path != "/api/generate":
            return self.reply(404, json.dumps({"error": "not found"}))
        length = int(self.headers.get("Content-Length", "0"))
        prompt = json.loads(self.rfile.read(length) or b"{}").get("prompt", "")
        words = ["(stand-in", MODEL + ")", "you", "said:"] + prompt.split()
        lines = [json.dumps({"model": MODEL, "response": word + " ", "done": False}) for word in words]
        lines.append(json.dumps({"model": MODEL, "response": "", "done": True}))
        self.reply(200, "\n".join(lines) + "\n", "application/x-ndjson")

    def log_message(self, format, *args):
        pass


if __name__ == "__main__":
    os.makedirs("/models", exist_ok=True)
    ThreadingHTTPServer(("0.0.0.0", 11434), Handler).serve_forever()
