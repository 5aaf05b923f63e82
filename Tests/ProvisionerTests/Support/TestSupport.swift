import Foundation
import XCTest
@testable import Provisioner

/// Paths and process helpers shared by the tests.
enum TestSupport {
    /// The package root, found from this file's path so tests run from any directory.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/conformance`, or a skip with a clear reason when it is absent.
    static func conformanceFolder() throws -> URL {
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent("yaml_diff.py").path) else {
            throw XCTSkip("\(url.path) is absent: the conformance suites need ../shared/conformance beside the project")
        }
        return url
    }

    /// The `provision` executable SwiftPM built beside the test bundle.
    static func provisionBinary() throws -> URL {
        let folder = Bundle.main.bundleURL.pathExtension == "xctest"
            ? Bundle.main.bundleURL.deletingLastPathComponent()
            : (Bundle.main.executableURL ?? Bundle.main.bundleURL).deletingLastPathComponent()
        for candidate in [folder, folder.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("provision")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw XCTSkip("the provision executable was not found beside the tests in \(folder.path); run `swift build` first")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion; output goes through files so large output cannot block it.
    static func run(_ executable: String, _ arguments: [String], stdin: Data? = nil,
                    environment: [String: String]? = nil, in directory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("provision-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temp) }
        let outURL = temp.appendingPathComponent("out"), errURL = temp.appendingPathComponent("err")
        for url in [outURL, errURL] { try Data().write(to: url) }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// Finds an executable on PATH.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The reference ansible-playbook (scripts/test.sh installs ansible-core 2.19.14).
    static func ansiblePlaybook() throws -> String {
        let venv = ProcessInfo.processInfo.environment["PROVISION_ANSIBLE_VENV"] ?? "/tmp/provision-ansible-venv"
        if FileManager.default.isExecutableFile(atPath: venv + "/bin/ansible-playbook") { return venv + "/bin/ansible-playbook" }
        if let path = which("ansible-playbook") { return path }
        if ProcessInfo.processInfo.environment["PROVISION_REQUIRE_INTEGRATION"] == "1" {
            XCTFail("ansible-playbook is not installed (scripts/test.sh installs it)")
        }
        throw XCTSkip("ansible-playbook is not installed")
    }

    /// Runs a program through posix_spawn, not Foundation's Process: ssh and sshd close
    /// every inherited descriptor, including the one Process watches, and Process then
    /// hangs (see SSHProcess.spawn). Output goes through files.
    static func runSpawned(_ executable: String, _ arguments: [String]) throws -> Result {
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("provision-spawn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temp) }
        let outPath = temp.appendingPathComponent("out").path, errPath = temp.appendingPathComponent("err").path
        let input = open("/dev/null", O_RDONLY)
        let output = open(outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let errors = open(errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { for fd in [input, output, errors] { close(fd) } }
        let pid = try SSHProcess.spawn(executable, arguments, stdin: input, stdout: output, stderr: errors)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: exitStatus,
                      stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }
}
