"""The chat backend: an HTTP API with a health endpoint and a WebSocket endpoint that streams the model's tokens.

GET  /health     {"status": "ok", "model": ..., "gpus": [...], "greeting": CHAT_GREETING}; 503 while the model is away
POST /api/chat   {"message": ...} -> {"reply": ...}
GET  /ws         WebSocket: each text message is answered with the model's tokens, one frame each, then {"done": true}
"""
import argparse
import base64
import hashlib
import json
import os
import struct
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_URL = os.environ.get("MODEL_URL", "http://model:11434")
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def model_tags():
    with urllib.request.urlopen(MODEL_URL + "/api/tags", timeout=2) as response:
        return json.load(response)


def generate(prompt):
    request = urllib.request.Request(MODEL_URL + "/api/generate", data=json.dumps({"prompt": prompt}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        for line in response:
            if line.strip():
                yield json.loads(line)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            try:
                tags = model_tags()
            except Exception as error:
                return self.reply(503, {"status": "model unavailable", "error": str(error)})
            return self.reply(200, {"status": "ok", "model": tags["models"][0]["name"], "gpus": tags.get("gpus", []),
                                    "greeting": os.environ.get("CHAT_GREETING", "")})
        if self.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/api/chat":
            return self.reply(404, {"error": "not found"})
        length = int(self.headers.get("Content-Length", "0"))
        message = json.loads(self.rfile.read(length) or b"{}").get("message", "")
        self.reply(200, {"reply": "".join(token["response"] for token in generate(message)).strip()})

    # WebSocket (RFC 6455), text frames only.
    def websocket(self):
        accept = base64.b64encode(hashlib.sha1((self.headers["Sec-WebSocket-Key"] + GUID).encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.close_connection = True
        while True:
            message = self.read_frame()
            if message is None:
                return
            for token in generate(message):
                self.send_frame(json.dumps({"token": token["response"], "done": token["done"]}))

    def read_frame(self):
        header = self.rfile.read(2)
        if len(header) < 2:
            return None
        opcode, length = header[0] & 0x0F, header[1] & 0x7F
        if length == 126:
            length = struct.unpack(">H", self.rfile.read(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", self.rfile.read(8))[0]
        mask = self.rfile.read(4) if header[1] & 0x80 else b"\0\0\0\0"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length)))
        if opcode == 0x8:
            return None
        return payload.decode()

    def send_frame(self, text):
        data = text.encode()
        if len(data) < 126:
            header = bytes([0x81, len(data)])
        else:
            header = bytes([0x81, 126]) + struct.pack(">H", len(data))
        self.wfile.write(header + data)
        self.wfile.flush()

    def log_message(self, format, *args):
        pass


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    port = parser.parse_args().port
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
