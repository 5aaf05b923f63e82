import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// get_url, uri and wait_for: observed state in, plan (changes and run-time steps) out, and what
/// their steps make of the host's answers.
final class ModuleHTTPTests: XCTestCase {
    typealias F = ModuleFixture

    let tools: [[String]: CommandOutput] = [HTTPFetch.probe.argv: ModuleFixture.ok("curl\nwget\npython3\n")]

    // MARK: HTTPFetch

    func testResponsesAreReadFromTheLastBlockAndRedirectsAreFollowedByLocation() {
        let meta = "url \nHTTP/1.1 302 Found\nLocation: /b\n\nHTTP/1.1 200 OK\nContent-Type: text/plain\nX-A: 1\n"
        let response = HTTPFetch.parse(meta, requested: "http://h/a")
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(response?.url, "http://h/b")
        XCTAssertEqual(response?.redirected, true)
        XCTAssertEqual(response?.headerFields["content_type"], "text/plain")
        XCTAssertEqual(response?.headerFields["x_a"], "1")
        XCTAssertNil(HTTPFetch.parse("url x\n", requested: "http://h/"))
        XCTAssertEqual(HTTPFetch.tool(Observations.answering(HTTPFetch.probe, "python3\n")), .python3)
        XCTAssertNil(HTTPFetch.tool(Observations.answering(HTTPFetch.probe, "")))
    }

    func testSecretsTravelInTheEnvironmentNeverInArgv() throws {
        let module = try F.make(URIModule.self, ["url": "https://api.example.com/x", "url_password": "hunter2", "url_username": "me",
                                                 "headers": ["Authorization": "Bearer t0ken"]])
        let step = try XCTUnwrap(try F.plan(module, commands: tools).steps.first)
        XCTAssertFalse(step.command.argv.joined().contains("hunter2"))
        XCTAssertFalse(step.command.argv.joined().contains("t0ken"))
        XCTAssertEqual(step.command.environment["PV_PASSWORD"], "hunter2")
        XCTAssertTrue(step.command.environment["PV_HEADERS"]?.contains("Authorization: Bearer t0ken") == true)
        // force_basic_auth sends them at once, as a header.
        let forced = try F.make(URIModule.self, ["url": "https://h/", "url_username": "u", "url_password": "p", "force_basic_auth": true])
        let env = try XCTUnwrap(try F.plan(forced, commands: tools).steps.first).command.environment
        XCTAssertEqual(env["PV_HEADERS"], "Authorization: Basic dTpw")
        XCTAssertNil(env["PV_USER"])
        XCTAssertEqual(HTTPFetch.masked("https://u:secret@h/x"), "https://u:********@h/x")
        XCTAssertEqual(HTTPFetch.httpDate(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    // MARK: get_url

    func testChecksumsAreParsedAsAnsibleParsesThem() throws {
        XCTAssertEqual(try GetURLModule.parseChecksum("sha256:AB\u{200B}cd"), .digest(algorithm: "sha256", hex: "abcd"))
        XCTAssertEqual(try GetURLModule.parseChecksum("sha1:https://h/SUMS"), .file(algorithm: "sha1", url: "https://h/SUMS"))
        XCTAssertThrowsError(try GetURLModule.parseChecksum("abcd")) { XCTAssertEqual(($0 as? ModuleError)?.argument, "checksum") }
        XCTAssertThrowsError(try GetURLModule.parseChecksum("sha256:xyz"))
        XCTAssertThrowsError(try GetURLModule.parseChecksum("blake2:ab"))
        let lines = ["0123  other.tar", "abcd *app.tar.gz", "SHA256 (b.txt) = ef01", "9999  ./c.txt"]
        XCTAssertEqual(GetURLModule.digest(for: "app.tar.gz", in: lines), "abcd")
        XCTAssertEqual(GetURLModule.digest(for: "b.txt", in: lines), "ef01")
        XCTAssertEqual(GetURLModule.digest(for: "c.txt", in: lines), "9999")
        XCTAssertNil(GetURLModule.digest(for: "d.txt", in: lines))
        XCTAssertEqual(GetURLModule.digest(for: "anything", in: ["ffee"]), "ffee")
        XCTAssertEqual(GetURLModule.urlFilename("https://h/a/b.tgz?x=1"), "b.tgz")
        XCTAssertEqual(GetURLModule.urlFilename("https://h/"), "index.html")
        XCTAssertThrowsError(try F.make(GetURLModule.self, ["url": "file:///etc/passwd", "dest": "/tmp/x"]))
    }

    func testAFileWithTheChecksumIsKeptWithoutARequest() throws {
        let module = try F.make(GetURLModule.self, ["url": "https://h/app.tgz", "dest": "/opt/app.tgz", "checksum": "sha256:abcd", "mode": "0600"])
        let plan = try F.plan(module, commands: tools.merging([["sha256sum", "--", "/opt/app.tgz"]: F.ok("abcd  /opt/app.tgz\n")]) { $1 },
                              targets: ["/opt/app.tgz": F.file("x")])
        XCTAssertTrue(plan.steps.isEmpty, "a converged host makes no request")
        XCTAssertEqual(plan.actions, [.setAttributes(path: "/opt/app.tgz", attributes: FileAttributes(mode: 0o600))])
        XCTAssertEqual(plan.result["msg"], "file already exists but file attributes changed")
    }

    func testDownloadsAskOnlyForANewerFileUnlessForced() throws {
        let existing = ["/opt/app.tgz": F.file("x", modified: 784_111_777)]
        let plain = try F.plan(try F.make(GetURLModule.self, ["url": "https://h/app.tgz", "dest": "/opt/app.tgz"]), commands: tools, targets: existing)
        let step = try XCTUnwrap(plain.steps.first)
        XCTAssertEqual(step.command.argv[4...6], ["curl", "/opt/app.tgz", "0"])
        XCTAssertEqual(step.command.argv[11], "Sun, 06 Nov 1994 08:49:37 GMT", "If-Modified-Since")
        XCTAssertTrue(step.runsInCheckMode)
        XCTAssertEqual(step.command.environment["PV_METHOD"], "GET")
        let forced = try F.plan(try F.make(GetURLModule.self, ["url": "https://h/app.tgz", "dest": "/opt/app.tgz", "force": true]),
                                commands: tools, targets: existing)
        XCTAssertEqual(forced.steps.first?.command.argv[10...11], ["1", ""])
        // Check mode only asks with HEAD, as Ansible does.
        let check = try F.plan(try F.make(GetURLModule.self, ["url": "https://h/app.tgz", "dest": "/opt/"]), commands: tools,
                               targets: ["/opt/": F.directory()], context: ModuleContext(checkMode: true))
        XCTAssertEqual(check.steps.first?.command.environment["PV_METHOD"], "HEAD")
        XCTAssertEqual(check.steps.first?.command.argv[6], "1", "dest is a directory")
        let none = try F.plan(try F.make(GetURLModule.self, ["url": "https://h/a", "dest": "/a"]), commands: [HTTPFetch.probe.argv: F.ok("")])
        XCTAssertEqual(none.failure, HTTPFetch.missingTools)
    }

    func testWhatTheDownloadStepReports() {
        let base: ValueDict = ["dest": "/a", "url": "https://h/a"]
        let meta = "@response\nurl https://h/a\nHTTP/1.1 200 OK\nContent-Length: 3\n"
        let changed = GetURLModule.interpret(StepRun(output: F.ok("checksum_src\tabc\nchanged\t1\nstat\t644 root root 0 0 3\n" + meta), elapsed: 2),
                                             requested: "https://h/a", result: base)
        XCTAssertTrue(changed.changed)
        XCTAssertNil(changed.failure)
        XCTAssertEqual(changed.result["status_code"], 200)
        XCTAssertEqual(changed.result["msg"], "OK (3 bytes)")
        XCTAssertEqual(changed.result["mode"], "0644")
        XCTAssertEqual(changed.result["elapsed"], 2)
        let notModified = GetURLModule.interpret(StepRun(output: F.ok("@response\nurl \nHTTP/1.1 304 Not Modified\n")), requested: "https://h/a", result: base)
        XCTAssertFalse(notModified.changed)
        XCTAssertEqual(notModified.result["msg"], "HTTP Error 304: Not Modified")
        let failed = GetURLModule.interpret(StepRun(output: F.ok("failure\tRequest failed\n@response\nurl \nHTTP/1.1 404 Not Found\n")),
                                            requested: "https://h/a", result: base)
        XCTAssertEqual(failed.failure, "Request failed")
        XCTAssertEqual(failed.result["status_code"], 404)
        XCTAssertEqual(failed.result["response"], "Not Found")
    }

    func testAChecksumFileIsFetchedFirstThenTheDownloadVerifiesAgainstIt() throws {
        let module = try F.make(GetURLModule.self, ["url": "https://h/v1/app.tgz", "dest": "/opt/app.tgz", "checksum": "sha256:https://h/v1/SUMS"])
        let plan = try F.plan(module, commands: tools)
        XCTAssertEqual(plan.steps.count, 1)
        XCTAssertEqual(plan.steps[0].command.environment["PV_URL"], "https://h/v1/SUMS")
        let fetched = plan.steps[0].interpret(StepRun(output: F.ok("@response\nurl \nHTTP/1.1 200 OK\n\n@body\nAB12  app.tgz\nffff  other\n")))
        XCTAssertNil(fetched.failure)
        XCTAssertEqual(fetched.next.first?.command.argv[8...9], ["sha256", "ab12"])
        let missing = plan.steps[0].interpret(StepRun(output: F.ok("@response\nurl \nHTTP/1.1 200 OK\n\n@body\nffff  other\n")))
        XCTAssertEqual(missing.failure, "Unable to find a checksum for file 'app.tgz' in 'https://h/v1/SUMS'")
    }

    // MARK: uri

    func testBodiesAreEncodedAsTheFormatSays() throws {
        let json = try F.make(URIModule.self, ["url": "http://h/", "method": "POST", "body": ["a": 1, "b": ["x"]], "body_format": "json"])
        XCTAssertEqual(json.body.map { String(decoding: $0, as: UTF8.self) }, #"{"a": 1, "b": ["x"]}"#)
        XCTAssertTrue(json.request.headers.contains { $0 == ("Content-Type", "application/json") })
        let form = try F.make(URIModule.self, ["url": "http://h/", "method": "POST", "body": ["q": "a b&c", "n": [1, 2]], "body_format": "form-urlencoded"])
        XCTAssertEqual(form.body.map { String(decoding: $0, as: UTF8.self) }, "q=a+b%26c&n=1&n=2")
        XCTAssertThrowsError(try F.make(URIModule.self, ["url": "http://h/", "method": "GET POST"])) { error in
            XCTAssertEqual((error as? ModuleError)?.message, "Parameter 'method' needs to be a single word in uppercase, like GET or POST.")
        }
        XCTAssertEqual(try F.make(URIModule.self, ["url": "http://h/", "method": "put"]).request.method, "PUT", "upper-cased, as Ansible does")
        XCTAssertThrowsError(try F.make(URIModule.self, ["url": "http://h/", "body_format": "form-multipart"]), "refused at validate time")
        XCTAssertThrowsError(try F.make(URIModule.self, ["url": "http://h/", "body": ["a": 1]]))
        XCTAssertFalse(URIModule.supportsCheckMode, "as Ansible's uri: skipped in check mode")
        // Redirects: safe follows for GET and HEAD only.
        XCTAssertTrue(try F.make(URIModule.self, ["url": "http://h/"]).request.followRedirects)
        XCTAssertFalse(try F.make(URIModule.self, ["url": "http://h/", "method": "POST"]).request.followRedirects)
        XCTAssertTrue(try F.make(URIModule.self, ["url": "http://h/", "method": "POST", "follow_redirects": "all"]).request.followRedirects)
    }

    func testCreatesSkipsTheRequest() throws {
        let module = try F.make(URIModule.self, ["url": "http://h/", "creates": "/done"])
        let plan = try F.plan(module, files: ["/done": F.file("")], commands: tools)
        XCTAssertTrue(plan.steps.isEmpty)
        XCTAssertEqual(plan.result["msg"], "skipped, since '/done' exists")
    }

    func testTheResponseBecomesAnsiblesResult() {
        let request = HTTPFetch.Request(url: "http://h/api")
        let output = F.ok("size\t13\n@response\nurl http://h/api\nHTTP/1.1 201 Created\nContent-Type: application/json; charset=utf-8\n"
            + "Set-Cookie: sid=1; Path=/\nLocation: /api/7\n\n@body\n{\"id\": 7}\n")
        let ok = URIModule.interpret(StepRun(output: output), request: request, statusCodes: [200, 201], returnContent: true)
        XCTAssertNil(ok.failure)
        XCTAssertFalse(ok.changed)
        XCTAssertEqual(ok.result["status"], 201)
        XCTAssertEqual(ok.result["json"], ["id": 7])
        XCTAssertEqual(ok.result["content"], "{\"id\": 7}\n")
        XCTAssertEqual(ok.result["cookies"], ["sid": "1"])
        XCTAssertEqual(ok.result["location"], "http://h/api/7")
        XCTAssertEqual(ok.result["content_type"], "application/json; charset=utf-8")
        let refused = URIModule.interpret(StepRun(output: output), request: request, statusCodes: [200], returnContent: false)
        XCTAssertEqual(refused.failure, "Status code was 201 and not [200]: OK (13 bytes)")
        XCTAssertNil(refused.result["content"])
        XCTAssertEqual(refused.result["json"], ["id": 7], "JSON is parsed without return_content, as in Ansible")
        let down = URIModule.interpret(StepRun(output: F.ok("failure\tConnection refused\n")), request: request, statusCodes: [200], returnContent: false)
        XCTAssertEqual(down.failure, "Connection refused")
        XCTAssertEqual(down.result["status"], -1)
    }

    // MARK: wait_for

    func testArgumentsAnsibleRefusesAreRefused() {
        XCTAssertThrowsError(try F.make(WaitForModule.self, ["port": 80, "path": "/x"]))
        XCTAssertThrowsError(try F.make(WaitForModule.self, ["path": "/x", "state": "stopped"]))
        XCTAssertThrowsError(try F.make(WaitForModule.self, ["port": 80, "exclude_hosts": "10.0.0.1"]))
        XCTAssertThrowsError(try F.make(WaitForModule.self, ["port": 80, "state": "drained", "active_connection_states": "BOGUS"]))
        XCTAssertThrowsError(try F.make(WaitForModule.self, ["port": 66044]), "ports are checked at validate time")
        XCTAssertThrowsError(try F.make(WaitForModule.self, ["path": "/x", "search_regex": "("]))
        XCTAssertFalse(WaitForModule.supportsCheckMode)
    }

    func testAConditionThatAlreadyHoldsNeedsNoWait() throws {
        let module = try F.make(WaitForModule.self, ["path": "/var/log/app.log", "search_regex": "ready on (?P<port>\\d+)"])
        let probe = try XCTUnwrap(module.probe)
        let ready = try F.plan(module, commands: [probe.argv: F.ok("present\nstarting\nready on 8080\n")])
        XCTAssertTrue(ready.steps.isEmpty)
        XCTAssertEqual(ready.result["match_groups"], ["8080"])
        XCTAssertEqual(ready.result["match_groupdict"], ["port": "8080"])
        let notYet = try F.plan(module, commands: [probe.argv: F.ok("present\nstarting\n")])
        let step = try XCTUnwrap(notYet.steps.first)
        XCTAssertEqual(step.poll, HostStep.Poll(delay: 0, interval: 1, timeout: 300))
        XCTAssertFalse(step.interpret(StepRun(output: F.ok("absent\n"), isLast: false)).satisfied)
        XCTAssertEqual(step.interpret(StepRun(output: F.ok("absent\n"), elapsed: 300)).failure,
                       "Timeout when waiting for search string ready on (?P<port>\\d+) in /var/log/app.log")
        XCTAssertTrue(step.interpret(StepRun(output: F.ok("present\nready on 1\n"))).satisfied)
        // A delay is part of what the task asks: always a wait, never the shortcut.
        let delayed = try F.make(WaitForModule.self, ["port": 22, "delay": 5, "timeout": 30])
        XCTAssertEqual(delayed.observations(ModuleContext()), [])
        XCTAssertEqual(try F.plan(delayed).steps.first?.poll, HostStep.Poll(delay: 5, interval: 1, timeout: 30))
    }

    func testPortsStoppedAndHostsWithoutAConnector() throws {
        let stopped = try F.make(WaitForModule.self, ["port": 8080, "state": "stopped", "msg": "still up"])
        let probe = try XCTUnwrap(stopped.probe)
        XCTAssertTrue(try F.plan(stopped, commands: [probe.argv: F.ok("closed\n")]).steps.isEmpty)
        let step = try XCTUnwrap(try F.plan(stopped, commands: [probe.argv: F.ok("open\n")]).steps.first)
        XCTAssertEqual(step.interpret(StepRun(output: F.ok("open\n"))).failure, "still up")
        XCTAssertEqual(try F.plan(stopped, commands: [probe.argv: F.ok("none\n")]).failure,
                       "the host has none of python3, bash (with timeout) or nc to open a TCP connection with: install one of them")
        let sleep = try F.plan(try F.make(WaitForModule.self, ["timeout": 3, "delay": 1]))
        XCTAssertEqual(sleep.steps.first?.command.argv, ["sleep", "4"])
    }

    func testDrainedCountsActiveConnectionsOnThePort() throws {
        // 127.0.0.1:8080 LISTEN, one ESTABLISHED from 10.0.0.5, one TIME_WAIT from 10.0.0.6.
        let table = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 10 0
               1: 0100007F:1F90 0500000A:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 10 0
               2: 0100007F:1F90 0600000A:C351 06 00000000:00000000 00:00000000 00000000     0        0 3 1 0 10 0
               3: 0100007F:0016 0700000A:C352 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0 10 0
            """
        let module = try F.make(WaitForModule.self, ["port": 8080, "state": "drained"])
        XCTAssertEqual(module.activeConnections(table), 2)
        let excluding = try F.make(WaitForModule.self, ["port": 8080, "state": "drained", "exclude_hosts": ["10.0.0.5", "10.0.0.6"]])
        XCTAssertEqual(excluding.activeConnections(table), 0)
        let established = try F.make(WaitForModule.self, ["port": 8080, "state": "drained", "active_connection_states": ["ESTABLISHED"]])
        XCTAssertEqual(established.activeConnections(table), 1)
    }
}

extension Observations {
    /// The answer to one command observation.
    static func answering(_ observation: Observation, _ stdout: String) -> Observations {
        var observed = Observations()
        observed.commands[observation.argv] = CommandOutput(status: 0, stdout: stdout)
        return observed
    }
}
