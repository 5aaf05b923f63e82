import Foundation
import XCTest
@testable import Provisioner

/// `provision bundle` and `apply --bundle` end to end through the built binary, on this machine: a play
/// whose get_url is served by a local HTTP server while bundling, then installed with the server gone.
final class BundleCommandTests: XCTestCase {
    var scratch = ""
    var server: Process?
    var port = 0
    var blobSHA = ""

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("install.sh installs as root; run the tests as root") }
        guard TestSupport.which("python3") != nil, TestSupport.which("curl") != nil else { throw XCTSkip("python3 and curl are needed") }
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-cli-\(UUID().uuidString)").path
        for folder in ["www", "project/playbooks", "out"] {
            try FileManager.default.createDirectory(atPath: scratch + "/" + folder, withIntermediateDirectories: true)
        }
        let blob = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 9) })
        try blob.write(to: URL(fileURLWithPath: scratch + "/www/blob.bin"))
        blobSHA = SHA256.hex([UInt8](blob))
        // A port nothing answers on yet.
        repeat { port = 18_900 + Int.random(in: 0..<90) } while try TestSupport.run("/usr/bin/curl", ["-s", "-o", "/dev/null", url]).status == 0
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try XCTUnwrap(TestSupport.which("python3")))
        process.arguments = ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", scratch + "/www"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        server = process
        for _ in 0..<50 where try TestSupport.run("/usr/bin/curl", ["-fs", "-o", "/dev/null", url]).status != 0 { usleep(100_000) }
        try """
        - hosts: localhost
          connection: local
          gather_facts: false
          vars:
            blob_url: \(url)
          tasks:
            - name: fetch blob
              get_url:
                url: "{{ blob_url }}"
                dest: \(scratch)/out/
                checksum: sha256:\(blobSHA)
                mode: "0640"
        """.write(toFile: scratch + "/project/playbooks/site.yml", atomically: true, encoding: .utf8)
    }

    var url: String { "http://127.0.0.1:\(port)/blob.bin" }

    func stopServer() {
        server?.terminate()
        server?.waitUntilExit()
        server = nil
    }

    override func tearDownWithError() throws {
        stopServer()
        if !scratch.isEmpty { try? FileManager.default.removeItem(atPath: scratch) }
    }

    func provision(_ arguments: [String]) throws -> TestSupport.Result {
        try TestSupport.run(try TestSupport.provisionBinary().path, arguments)
    }

    func bundle(_ extra: [String] = []) throws -> TestSupport.Result {
        try provision(["bundle", scratch + "/project/playbooks/site.yml", "-o", scratch + "/bundle"] + extra)
    }

    func install(_ bundle: String, _ arguments: [String] = []) throws -> TestSupport.Result {
        try TestSupport.run(bundle + "/install.sh", arguments)
    }

    func testBundleInstallsOfflineDryRunFirstSecondRunUnchanged() throws {
        let made = try bundle()
        XCTAssertEqual(made.status, 0, made.stderr)
        stopServer()
        XCTAssertEqual(try provision(["bundle", "verify", scratch + "/bundle"]).status, 0)
        let dry = try install(scratch + "/bundle", ["--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stdout + dry.stderr)
        XCTAssertTrue(dry.stdout.contains("changed: [localhost]"), dry.stdout)
        // Where the file goes, and that it needs root (the scratch folder is root's).
        XCTAssertTrue(dry.stdout.contains("    plan: write \(scratch)/out/blob.bin (200000 bytes)  [needs root: \(scratch)/out is not writable by "),
                      dry.stdout)
        XCTAssertTrue(dry.stdout.contains("installation plan: 1 action(s), 1 need root"), dry.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/out/blob.bin"), "--dry-run changed the host")
        let first = try install(scratch + "/bundle")
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(try BundleIO.sha256(scratch + "/out/blob.bin").sha256, blobSHA)
        XCTAssertEqual(BundleIO.fileMode(scratch + "/out/blob.bin"), 0o640)
        let second = try install(scratch + "/bundle")
        XCTAssertTrue(second.stdout.contains("changed=0"), second.stdout)
    }

    func testTamperedBundleIsRefusedBeforeAnythingChanges() throws {
        XCTAssertEqual(try bundle().status, 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: scratch + "/bundle/files")
        let blob = scratch + "/bundle/files/\(try XCTUnwrap(files.first))/blob.bin"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: blob)))
        bytes[7] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: blob))
        let run = try install(scratch + "/bundle")
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("blob.bin: sha256 mismatch"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/out/blob.bin"))
    }

    func testOfflineApplyRefusesWhatIsNotInTheBundle() throws {
        XCTAssertEqual(try bundle().status, 0)
        let other = "http://127.0.0.1:\(port)/other.bin"
        let run = try provision(["apply", "--bundle", scratch + "/bundle", "playbooks/site.yml", "-e", "blob_url=\(other)"])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("site.yml:8:7: offline: \(other) is not in the bundle"), run.stderr)
        XCTAssertTrue(run.stderr.contains("nothing was changed"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/out/blob.bin"))
    }

    func testNetworkModulesThatCannotBeBundledAreRefused() throws {
        try """
        - hosts: localhost
          connection: local
          gather_facts: false
          tasks:
            - uri: {url: "http://127.0.0.1:1/"}
        """.write(toFile: scratch + "/project/playbooks/site.yml", atomically: true, encoding: .utf8)
        let run = try bundle()
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("uri: HTTP requests cannot be answered from a bundle: it cannot be bundled"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/bundle"))
    }

    func testSplitBundleCorruptPartRefusedMissingRefusedRejoinedInstalls() throws {
        let made = try bundle(["--split", "4M"])
        XCTAssertEqual(made.status, 0, made.stderr)
        stopServer()
        let parts = try FileManager.default.contentsOfDirectory(atPath: scratch + "/bundle").sorted().map { scratch + "/bundle/" + $0 }
        XCTAssertGreaterThan(parts.count, 2)
        let victim = parts[1]
        let original = try Data(contentsOf: URL(fileURLWithPath: victim))
        var bytes = [UInt8](original)
        bytes[bytes.count / 2] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: victim))
        let corrupt = try provision(["bundle", "join", scratch + "/bundle", "-o", scratch + "/joined"])
        XCTAssertEqual(corrupt.status, 1)
        XCTAssertTrue(corrupt.stderr.contains("part 2 of \(parts.count) (\(victim)) is corrupt"), corrupt.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/joined"))
        try FileManager.default.removeItem(atPath: victim)
        let missing = try provision(["bundle", "join", scratch + "/bundle", "-o", scratch + "/joined"])
        XCTAssertTrue(missing.stderr.contains("part 2 of \(parts.count) (bundle.part-002) is missing"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/joined"))
        try original.write(to: URL(fileURLWithPath: victim))
        let joined = try provision(["bundle", "join", scratch + "/bundle", "-o", scratch + "/joined"])
        XCTAssertEqual(joined.status, 0, joined.stderr)
        let run = try install(scratch + "/joined")
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertEqual(try BundleIO.sha256(scratch + "/out/blob.bin").sha256, blobSHA)
    }
}
