import Foundation

/// Runs a program and collects its exit status and output. Both pipes are
/// drained concurrently so a chatty program cannot block on a full pipe.
enum Subprocess {
    static func run(_ command: Command) throws -> CommandOutput {
        guard let program = command.argv.first else { throw TransportError("empty command") }
        guard let executable = resolve(program, environment: command.environment) else {
            return CommandOutput(status: 127, stdout: "", stderr: "\(program): command not found")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.argv.dropFirst())
        if !command.environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(command.environment) { $1 }
        }
        if let directory = command.directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = command.stdin == nil ? FileHandle.nullDevice : input
        do {
            try process.run()
        } catch {
            return CommandOutput(status: 126, stdout: "", stderr: "\(program): \(error.localizedDescription)")
        }
        let stdout = Collected(), stderr = Collected()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { stdout.data = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { stderr.data = err.fileHandleForReading.readDataToEndOfFile() }
        if let stdin = command.stdin {
            input.fileHandleForWriting.write(Data(stdin))
            try? input.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        group.wait()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return CommandOutput(status: status, stdout: String(decoding: stdout.data, as: UTF8.self),
                             stderr: String(decoding: stderr.data, as: UTF8.self))
    }

    /// One reader thread writes it; `group.wait()` orders that before the read.
    private final class Collected: @unchecked Sendable {
        var data = Data()
    }

    /// PATH lookup, as a shell would do it.
    static func resolve(_ program: String, environment: [String: String]) -> String? {
        if program.contains("/") { return program }
        let path = environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
