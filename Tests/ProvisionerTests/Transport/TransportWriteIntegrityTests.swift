import Foundation
import XCTest
@testable import Provisioner

/// Issue 10 #1: a write over ssh commits only what arrived whole. The remote shell library
/// is fed here directly, as a dying connection would feed it: a request cut off mid-transfer
/// (at a base64 quantum boundary, where the prefix decodes cleanly), a transfer that arrived
/// altered, and a shell ended by a signal in the middle of a write. In each, the old file
/// must stay and no temp file may be left.
final class TransportWriteIntegrityTests: XCTestCase {
    static let shells: [(name: String, argv: [String])] = [
        ("dash", ["/bin/dash"]), ("bash", ["/bin/bash", "--posix"]), ("busybox", ["/bin/busybox", "sh"]),
    ]

    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-integrity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    /// A target holding "old", and the full text of a session writing 100 kB over it.
    func request(_ root: URL) throws -> (target: String, content: [UInt8], text: String) {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let target = root.appendingPathComponent("f").path
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: target))
        let content = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 251) }
        var script = RemoteShellScript()
        try script.perform(.writeFile(path: target, content: content, attributes: FileAttributes(mode: 0o640), backup: false))
        script.end("end")
        return (target, content, try RemoteShellLibrary.prelude(nonce: "ready", rootless: false) + script.text)
    }

    func temporaries(_ root: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0.contains(".provision-") }
    }

    func testARequestCutMidTransferRunsNothing() throws {
        for shell in Self.shells where FileManager.default.isExecutableFile(atPath: shell.argv[0]) {
            let root = folder.appendingPathComponent(shell.name)
            let (target, _, text) = try request(root)
            // 20 whole lines of base64 (76 characters: 19 whole quanta each) after the here-document starts.
            let start = try XCTUnwrap(text.range(of: "<<'__PV_DATA__'\n")).upperBound
            let cut = String(text[..<start]) + String(text[start...].prefix(20 * 77))
            _ = try TestSupport.run(shell.argv[0], Array(shell.argv.dropFirst()), stdin: Data(cut.utf8))
            let now = try Data(contentsOf: URL(fileURLWithPath: target))
            XCTAssertEqual(now, Data("old\n".utf8), "\(shell.name): \(now.count) bytes in the target")
            XCTAssertEqual(temporaries(root), [], shell.name)
        }
    }

    func testAnAlteredTransferIsNotCommitted() throws {
        for shell in Self.shells where FileManager.default.isExecutableFile(atPath: shell.argv[0]) {
            for (label, alter) in [("size", { (text: String) in text.replacingOccurrences(of: "'100000'", with: "'100003'") }),
                                   ("content", { (text: String) in
                                       // One base64 character of the first data line changed: same length, other bytes.
                                       guard let start = text.range(of: "<<'__PV_DATA__'\n")?.upperBound else { return text }
                                       let index = text.index(start, offsetBy: 10)
                                       let replacement = text[index] == "A" ? "B" : "A"
                                       return text.replacingCharacters(in: index...index, with: replacement)
                                   })] {
                let root = folder.appendingPathComponent("\(shell.name)-\(label)")
                let (target, _, text) = try request(root)
                let result = try TestSupport.run(shell.argv[0], Array(shell.argv.dropFirst()), stdin: Data(alter(text).utf8))
                XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "old\n", "\(shell.name) \(label)")
                XCTAssertEqual(temporaries(root), [], "\(shell.name) \(label)")
                let failure = result.stdout.split(separator: "\n").first { $0.hasPrefix("@E ") }
                    .flatMap { Data(base64Encoded: String($0.dropFirst(3))) }.map { String(decoding: $0, as: UTF8.self) }
                XCTAssertTrue(failure?.contains("was left as it was") == true, "\(shell.name) \(label): \(result.stdout)")
            }
        }
    }

    func testAWholeTransferIsWrittenWithBusyboxAppletsAlone() throws {
        guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else { throw XCTSkip("busybox is not installed") }
        let applets = folder.appendingPathComponent("applets")
        try FileManager.default.createDirectory(at: applets, withIntermediateDirectories: true)
        let install = try TestSupport.run("/bin/busybox", ["--install", "-s", applets.path])
        XCTAssertEqual(install.status, 0, install.stderr)
        let root = folder.appendingPathComponent("busybox-only")
        let (target, content, text) = try request(root)
        let result = try TestSupport.run("/bin/busybox", ["sh"], stdin: Data(text.utf8), environment: ["PATH": applets.path])
        XCTAssertTrue(result.stdout.contains("@OK"), result.stdout + result.stderr)
        XCTAssertEqual(try [UInt8](Data(contentsOf: URL(fileURLWithPath: target))), content)
        XCTAssertEqual(temporaries(root), [])
    }

    /// The shell ended by a signal while the temp file exists (a slow `sync` holds it there):
    /// the temp file goes with the shell.
    func testASignalMidWriteLeavesNoTempFile() throws {
        let slow = folder.appendingPathComponent("slow")
        try FileManager.default.createDirectory(at: slow, withIntermediateDirectories: true)
        try "#!/bin/sh\nsleep 1\n".write(to: slow.appendingPathComponent("sync"), atomically: true, encoding: .utf8)
        chmod(slow.appendingPathComponent("sync").path, 0o755)
        let path = slow.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        for shell in Self.shells where FileManager.default.isExecutableFile(atPath: shell.argv[0]) {
            for signal in [SIGTERM, SIGHUP] {
                let root = folder.appendingPathComponent("\(shell.name)-\(signal)")
                let (target, _, text) = try request(root)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: shell.argv[0])
                process.arguments = Array(shell.argv.dropFirst())
                process.environment = ["PATH": path]
                let input = Pipe()
                process.standardInput = input
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                input.fileHandleForWriting.write(Data(text.utf8))
                // Once the temp file holds bytes the shell is past making it, in the write itself.
                let deadline = Date().addingTimeInterval(10)
                while !temporaries(root).contains(where: { name in
                    ((try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(name).path))?[.size] as? Int ?? 0) > 0
                }) && Date() < deadline { usleep(10_000) }
                XCTAssertFalse(temporaries(root).isEmpty, "\(shell.name): the write never started")
                kill(process.processIdentifier, signal)
                process.waitUntilExit()
                try? input.fileHandleForWriting.close()
                XCTAssertEqual(temporaries(root), [], "\(shell.name) signal \(signal)")
                XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "old\n", "\(shell.name) signal \(signal)")
            }
        }
    }
}
