import Foundation
import XCTest

/// A real HTTP server on 127.0.0.1 (Python's http.server, on a port the kernel picks) for the
/// modules that fetch: files from `root`, and routes for methods, status codes, redirects,
/// authentication and Content-Disposition. Stopped when the test ends.
final class HTTPTestServer {
    let root: URL
    let port: Int
    private let process: Process

    var base: String { "http://127.0.0.1:\(port)" }

    /// Starts it, or skips the test (a failure under PROVISION_REQUIRE_INTEGRATION=1) without python3.
    init() throws {
        guard let python = TestSupport.which("python3") else {
            if ProcessInfo.processInfo.environment["PROVISION_REQUIRE_INTEGRATION"] == "1" { XCTFail("python3 is missing") }
            throw XCTSkip("python3 is missing: the HTTP server for get_url/uri/wait_for cannot start")
        }
        root = FileManager.default.temporaryDirectory.appendingPathComponent("provision-www-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("files"), withIntermediateDirectories: true)
        let script = root.appendingPathComponent("server.py"), portFile = root.appendingPathComponent("port")
        try Data(HTTPTestServer.script.utf8).write(to: script)
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path, portFile.path, root.appendingPathComponent("files").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var found: Int?
        for _ in 0..<100 {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let number = Int(text) { found = number; break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let found else {
            process.terminate()
            throw XCTSkip("the HTTP test server did not start")
        }
        port = found
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: root)
    }

    /// Puts a file the server serves under /NAME.
    @discardableResult
    func serve(_ name: String, _ content: String) throws -> String {
        let url = root.appendingPathComponent("files").appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
        return base + "/" + name
    }

    static let script = #"""
import base64, http.server, json, os, sys, socketserver
root = sys.argv[2]
class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def log_message(self, *a):
        pass
    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return True
    def route(self):
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        if path.startswith("/status/"):
            return self.reply(int(path[8:]), b"status body\n", [("Content-Type", "text/plain")])
        if path == "/echo":
            answer = {"method": self.command, "body": data.decode(), "content_type": self.headers.get("Content-Type"),
                      "agent": self.headers.get("User-Agent"), "x_token": self.headers.get("X-Token")}
            return self.reply(200, json.dumps(answer).encode(), [("Content-Type", "application/json"), ("Set-Cookie", "sid=abc; Path=/")])
        if path == "/redirect":
            return self.reply(302, b"", [("Location", "/echo")])
        if path == "/auth":
            if self.headers.get("Authorization") == "Basic " + base64.b64encode(b"u:p").decode():
                return self.reply(200, b"welcome\n", [("Content-Type", "text/plain")])
            return self.reply(401, b"no\n", [("WWW-Authenticate", 'Basic realm="t"')])
        if path == "/named":
            return self.reply(200, b"named content\n", [("Content-Disposition", 'attachment; filename="report.txt"')])
        return None
    def do_GET(self):
        if self.route() is None:
            super().do_GET()
    def do_HEAD(self):
        if self.route() is None:
            super().do_HEAD()
    def do_POST(self):
        if self.route() is None:
            self.reply(404)
    do_PUT = do_POST
    do_DELETE = do_POST
    do_PATCH = do_POST
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
server = Server(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
"""#
}

extension TestSupport {
    /// A program the builtin modules' tests need: a skip without it, a failure under
    /// PROVISION_REQUIRE_INTEGRATION=1 (scripts/test.sh installs it).
    static func require(_ program: String, _ why: String) throws {
        guard which(program) == nil else { return }
        if ProcessInfo.processInfo.environment["PROVISION_REQUIRE_INTEGRATION"] == "1" {
            XCTFail("\(program) is missing (scripts/test.sh installs it): \(why)")
        }
        throw XCTSkip("\(program) is missing: \(why)")
    }
}
