import Foundation
import XCTest
@testable import Provisioner

/// The ssh transport against a private sshd on 127.0.0.1: observations in one
/// round trip, every action with the local transport's results, binary content.
final class SSHTransportTests: XCTestCase {
    private var server: SSHTestServer!
    private var scratch: URL!

    override func setUpWithError() throws {
        server = try SSHTestServer.start()
        scratch = server.directory.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        server = nil
    }

    private func connect(_ extra: [(String, Value)] = []) throws -> SSHTransport {
        try SSHTransport(host: "testhost", variables: server.variables(extra))
    }

    func testObservesFilesAndCommandsInOneRoundTrip() throws {
        let file = scratch.appendingPathComponent("a.conf").path
        try "key = value\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o4751)
        let link = scratch.appendingPathComponent("link").path
        symlink("a.conf", link)
        let missing = scratch.appendingPathComponent("nope/deeper").path
        let transport = try connect()
        let requests: [Observation] = [
            .file(path: file, content: true), .file(path: file, content: false), .file(path: link, content: true),
            .file(path: scratch.path, content: true), .file(path: missing, content: false),
            .command(["echo", "hello world"]), .command(["sh", "-c", "echo out; echo err >&2; exit 3"]),
            .command(["no-such-program-here"]),
        ]
        let observed = try transport.observe(requests)
        XCTAssertEqual(transport.roundTrips, 1)
        let local = try LocalTransport().observe(requests)
        XCTAssertEqual(observed.files, local.files)
        XCTAssertEqual(observed.missing, [missing])
        XCTAssertEqual(observed.file(file)?.content, Array("key = value\n".utf8))
        XCTAssertEqual(observed.file(file)?.mode, 0o4751)
        XCTAssertEqual(observed.file(link)?.linkTarget, "a.conf")
        XCTAssertEqual(observed.file(link)?.kind, .link)
        XCTAssertEqual(observed.command(["echo", "hello world"]), CommandOutput(status: 0, stdout: "hello world\n"))
        XCTAssertEqual(observed.command(["sh", "-c", "echo out; echo err >&2; exit 3"]),
                       CommandOutput(status: 3, stdout: "out\n", stderr: "err\n"))
        XCTAssertEqual(observed.command(["no-such-program-here"])?.status, 127)
        _ = try transport.observe([.file(path: file, content: false)])
        XCTAssertEqual(transport.roundTrips, 2)
    }

    /// Many files come back from one stat and one read, split by size: empty, binary and
    /// newline-ending files, a name with spaces and a newline, directories and links among them.
    func testManyFilesAreReadTogetherAndSplitBySize() throws {
        var requests: [Observation] = []
        let contents: [[UInt8]] = [[], Array("one\n".utf8), [0, 255, 10, 13, 0], Array(repeating: 65, count: 70_000), Array("last".utf8)]
        for (index, bytes) in contents.enumerated() {
            let path = scratch.appendingPathComponent(index == 3 ? "odd name\n\(index)" : "f\(index)").path
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            requests.append(.file(path: path, content: true))
            requests.append(.file(path: path + ".missing", content: true))
        }
        symlink("f1", scratch.appendingPathComponent("l1").path)
        symlink("gone", scratch.appendingPathComponent("dangling").path)
        requests.insert(.file(path: scratch.appendingPathComponent("l1").path, content: true), at: 3)
        requests.insert(.file(path: scratch.path, content: true), at: 5)
        // Followed stats: through a link, of a dangling link, of a folder and of nothing.
        requests += ["l1", "dangling", "f2", "nope/deeper"].map { .target(path: scratch.appendingPathComponent($0).path) }
        requests.append(.target(path: scratch.path))
        let transport = try connect()
        let observed = try transport.observe(requests)
        XCTAssertEqual(transport.roundTrips, 1)
        let local = try LocalTransport().observe(requests)
        XCTAssertEqual(observed.files, local.files)
        XCTAssertEqual(observed.missing, local.missing)
        XCTAssertEqual(observed.missing.count, contents.count)
        XCTAssertEqual(observed.targets, local.targets)
        XCTAssertEqual(observed.unresolved, local.unresolved)
        XCTAssertEqual(observed.target(scratch.appendingPathComponent("l1").path)?.kind, .file)
        XCTAssertEqual(observed.unresolved.count, 2)
    }
}
