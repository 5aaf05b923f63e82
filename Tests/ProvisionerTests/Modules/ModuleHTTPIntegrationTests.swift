import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// The fetching modules against a real HTTP server on 127.0.0.1: each of curl, GNU wget and python3
/// as the host's tool, and whole plays through `provision` on the local connection.
final class ModuleHTTPIntegrationTests: XCTestCase {
    var server: HTTPTestServer!
    var scratch: Scratch!

    override func setUpWithError() throws {
        server = try HTTPTestServer()
        scratch = try Scratch()
    }

    override func tearDown() {
        scratch?.remove()
        server = nil
    }

    /// Runs uri's script with `tool` on this machine, as a host would.
    func request(_ tool: HTTPFetch.Tool, _ request: HTTPFetch.Request, body: String? = nil, statusCodes: [Int] = [200]) throws -> StepOutcome {
        let argv = ["/bin/sh", "-c", URIModule.script, "sh", tool.rawValue, "", "0", statusCodes.map(String.init).joined(separator: " "), "", "1", "", "", ""]
        let output = try Subprocess.run(Command(argv, environment: request.environment(hasBody: body != nil), stdin: body.map { Array($0.utf8) }))
        return URIModule.interpret(StepRun(output: output), request: request, statusCodes: statusCodes, returnContent: true)
    }

    func testCurlWgetAndPython3GiveTheSameAnswers() throws {
        let tools = HTTPFetch.Tool.allCases.filter { tool in
            tool == .wget ? (try? Subprocess.run(Command(["wget", "--version"])))?.stdout.contains("GNU Wget") == true : TestSupport.which(tool.rawValue) != nil
        }
        if tools.count < 3, ProcessInfo.processInfo.environment["PROVISION_REQUIRE_INTEGRATION"] == "1" {
            XCTFail("curl, GNU wget and python3 are all needed (scripts/test.sh installs them); found \(tools)")
        }
        try XCTSkipIf(tools.isEmpty, "none of curl, wget, python3 here")
        for tool in tools {
            var post = HTTPFetch.Request(method: "POST", url: server.base + "/echo")
            post.headers = [("Content-Type", "application/json"), ("X-Token", "t0")]
            let echoed = try request(tool, post, body: #"{"a": 1}"#)
            XCTAssertNil(echoed.failure, "\(tool)")
            XCTAssertEqual(echoed.result["json"]?["body"], #"{"a": 1}"#, "\(tool)")
            XCTAssertEqual(echoed.result["json"]?["x_token"], "t0", "\(tool)")
            XCTAssertEqual(echoed.result["json"]?["agent"], "ansible-httpget", "\(tool)")
            XCTAssertEqual(echoed.result["cookies"], ["sid": "abc"], "\(tool)")

            let redirected = try request(tool, HTTPFetch.Request(url: server.base + "/redirect"))
            XCTAssertEqual(redirected.result["url"], .string(server.base + "/echo"), "\(tool)")
            XCTAssertEqual(redirected.result["redirected"], true, "\(tool)")
            var stay = HTTPFetch.Request(url: server.base + "/redirect")
            stay.followRedirects = false
            XCTAssertEqual(try request(tool, stay, statusCodes: [302]).result["status"], 302, "\(tool)")

            let missing = try request(tool, HTTPFetch.Request(url: server.base + "/status/404"), statusCodes: [404])
            XCTAssertNil(missing.failure, "\(tool)")
            XCTAssertEqual(missing.result["content"], "status body\n", "\(tool)")
            XCTAssertEqual(try request(tool, HTTPFetch.Request(url: server.base + "/status/500")).failure,
                           "Status code was 500 and not [200]: HTTP Error 500: Internal Server Error", "\(tool)")

            var auth = HTTPFetch.Request(url: server.base + "/auth")
            auth.user = "u"
            auth.password = "p"
            XCTAssertEqual(try request(tool, auth).result["content"], "welcome\n", "\(tool): credentials after the challenge")

            let refused = try request(tool, HTTPFetch.Request(url: "http://127.0.0.1:1/"))
            XCTAssertNotNil(refused.failure, "\(tool)")
            XCTAssertEqual(refused.result["status"], -1, "\(tool)")
        }
    }

    func testAKeyIsFetchedAsAReadOnlyObservation() throws {
        let url = try server.serve("key.gpg", "\u{1}binary key\u{0}\n")
        var observed = Observations()
        for wanted in [url, server.base + "/status/404"] {
            let probe = HTTPFetch.get(wanted)
            observed.commands[probe.argv] = try Subprocess.run(Command(probe.argv))
        }
        XCTAssertEqual(try HTTPFetch.body(observed, url).get(), Array("\u{1}binary key\u{0}\n".utf8))
        guard case .failure(let failure) = HTTPFetch.body(observed, server.base + "/status/404") else { return XCTFail("a 404 is no key") }
        XCTAssertEqual(failure.message, "HTTP status 404")
    }

    func testGetURLDownloadsThenAsksOnlyForANewerFile() throws {
        let url = try server.serve("app.txt", "version 1\n")
        let sums = try server.serve("SUMS", "\(sha256("version 1\n"))  app.txt\n")
        try scratch.write("hosts", "localhost ansible_connection=local\n")
        let dest = scratch.path("out")
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
        try scratch.write("play.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - get_url: {url: "\(url)", dest: "\(dest)/app.txt", mode: "0640"}
                - get_url: {url: "\(url)", dest: "\(dest)/", checksum: "sha256:\(sums)"}
                - get_url: {url: "\(url)", dest: "\(dest)/pinned.txt", checksum: "sha256:\(sha256("version 1\n"))"}
            """)
        let first = try scratch.provision(["apply", "play.yml", "-i", "hosts", "--json"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(first.recap("changed"), 2, "the folder download finds the same bytes: no change")
        XCTAssertEqual(scratch.read("out/app.txt"), "version 1\n")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: dest + "/app.txt")[.posixPermissions] as? Int, 0o640)
        let second = try scratch.provision(["apply", "play.yml", "-i", "hosts", "--json"])
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
        // A wrong checksum fails before anything is replaced.
        try scratch.write("bad.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - get_url: {url: "\(url)", dest: "\(dest)/app.txt", force: true, checksum: "sha256:\(String(repeating: "0", count: 64))"}
            """)
        let bad = try scratch.provision(["apply", "bad.yml", "-i", "hosts"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stdout.contains("did not match"), bad.stdout)
        XCTAssertEqual(scratch.read("out/app.txt"), "version 1\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dest).sorted(), ["app.txt", "pinned.txt"], "no temporary file left")
    }

    func testAConvergedChecksummedDownloadCostsOneRoundTripAndCheckModeTouchesNothing() throws {
        let url = try server.serve("tool.bin", "binary\n")
        try scratch.write("hosts", "localhost ansible_connection=local\n")
        try scratch.write("play.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - get_url: {url: "\(url)", dest: "\(scratch.path("tool.bin"))", checksum: "sha256:\(sha256("binary\n"))"}
                - stat: {path: "\(scratch.path("tool.bin"))"}
                  register: st
                - wait_for: {path: "\(scratch.path("tool.bin"))", search_regex: "bin"}
            """)
        let check = try scratch.provision(["apply", "play.yml", "-i", "hosts", "--check", "--json"])
        XCTAssertEqual(check.status, 0, check.stdout)
        XCTAssertNil(scratch.read("tool.bin"), "check mode downloads nothing")
        XCTAssertEqual(try scratch.provision(["apply", "play.yml", "-i", "hosts"]).status, 0)
        let converged = try scratch.provision(["apply", "play.yml", "-i", "hosts", "--json"])
        XCTAssertEqual(converged.recap("changed"), 0)
        XCTAssertEqual(converged.recap("round_trips"), 1, "stat, the checksum and the file's content are one observation round trip")
    }

    func testWaitForWaitsUntilThePathAppearsAndTimesOut() throws {
        try scratch.write("hosts", "localhost ansible_connection=local\n")
        let flag = scratch.path("flag")
        try scratch.write("play.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - wait_for: {path: "\(flag)", search_regex: "ready", timeout: 20}
                  register: waited
                - wait_for: {port: \(server.port), timeout: 5}
                - wait_for: {path: "\(flag)-never", timeout: 2, msg: "gave up"}
                  ignore_errors: true
                - copy: {dest: "\(scratch.path("elapsed"))", content: "{{ 'waited' if waited.elapsed >= 1 else 'no wait' }}"}
            """)
        // Something else on the host writes the file a little later.
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", "sleep 2; echo ready > \"$0\"", flag]
        try writer.run()
        defer { writer.waitUntilExit() }
        let started = Date()
        let run = try scratch.provision(["apply", "play.yml", "-i", "hosts"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("gave up"), run.stdout)
        XCTAssertEqual(scratch.read("elapsed"), "waited")
        XCTAssertLessThan(Date().timeIntervalSince(started), 15)
    }

    func sha256(_ text: String) -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("provision-sum-\(UUID().uuidString)")
        try? Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return (try? TestSupport.run("/usr/bin/sha256sum", [file.path]))?.stdout.split(separator: " ").first.map(String.init) ?? ""
    }
}
