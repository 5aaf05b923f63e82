import Foundation
import XCTest
@testable import Provisioner

/// For tests that run the real podman: finding it (skipping without it unless
/// PROVISION_REQUIRE_INTEGRATION=1, as in CI, where a missing podman is a failure)
/// and running it with extra environment.
enum PodmanTestSupport {
    static func requirePodman() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/podman"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        if ProcessInfo.processInfo.environment["PROVISION_REQUIRE_INTEGRATION"] == "1" {
            throw IntegrationError.podmanMissing
        }
        throw XCTSkip("podman is not on PATH (set PROVISION_REQUIRE_INTEGRATION=1 to make this a failure)")
    }

    /// Runs podman (or another program) and returns its stdout; a non-zero exit throws with its stderr.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String],
                    stdin: Data? = nil) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdout = Pipe(), stderr = Pipe(), input = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        // Read stderr alongside stdout so neither pipe can fill up and stall podman.
        let errors = LockedData()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errors.set(stderr.fileHandleForReading.readDataToEndOfFile()) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 180) { if process.isRunning { process.terminate() } }
        if let stdin {
            input.fileHandleForWriting.write(stdin)
            try? input.fileHandleForWriting.close()
        }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.get(), as: UTF8.self)
            throw TOMLEditError("podman \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(message)")
        }
        return output
    }
}

private enum IntegrationError: Error, CustomStringConvertible {
    case podmanMissing
    var description: String { "podman is not on PATH, and PROVISION_REQUIRE_INTEGRATION=1 requires this test" }
}

private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ new: Data) { lock.lock(); data = new; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}
