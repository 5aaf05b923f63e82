import Foundation

/// One remote `/bin/sh` kept open over one ssh process (login user, or wrapped in
/// `sudo -n` for become). Requests are scripts; replies are read back framed.
/// Once the connection fails, every later call throws the same unreachable error.
final class SSHSession {
    let target: SSHTarget
    let become: Become?
    /// How long the first reply may take after the process started: covers the ssh
    /// handshake and sudo, which no ConnectTimeout bounds once TCP is up.
    var startTimeout: TimeInterval = 60

    private var process: SSHProcess?
    private let readyLine: [UInt8]
    private var ready = false
    private var failure: TransportError?
    private var sequence = 0
    /// How long the first reply was waited for, for the message when it never came.
    private var waitedForStart: TimeInterval = 0
    private let nonce: String
    private let lock = NSLock()

    init(target: SSHTarget, become: Become?) throws {
        self.target = target
        self.become = become
        nonce = String(UInt64.random(in: 1...UInt64.max), radix: 36)
        readyLine = Array("@READY \(nonce)".utf8)
        if let directory = target.controlPathDirectory {
            // ssh does not create it; without it ssh warns and connects unshared.
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
        }
        let process = try SSHProcess(arguments: target.arguments(remoteCommand: try Self.remoteCommand(target, become)))
        self.process = process
        // Sent now, answered with the first request's reply: starting costs no round trip of its own.
        let rootless = become.map { $0.user != "root" } ?? false
        do {
            try process.write(Array(RemoteShellLibrary.prelude(nonce: nonce, rootless: rootless).utf8),
                              deadline: Date().addingTimeInterval(startTimeout))
        } catch {
            throw fail(error)
        }
    }

    deinit {
        process?.finish(grace: 2)
    }

    /// Sends `script` and returns its replies, in order.
    func exchange(_ script: RemoteShellScript, timeout: TimeInterval?) throws -> [RemoteShellReply] {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        guard let process else { throw TransportError("the ssh session to \(target) is closed", unreachable: true) }
        sequence += 1
        let end = "\(nonce).\(sequence)"
        var script = script
        script.end(end)
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        do {
            try process.write(Array(script.text.utf8), deadline: deadline)
            if !ready {
                let start = Date().addingTimeInterval(startTimeout)
                let limit = deadline.map { min($0, start) } ?? start
                waitedForStart = limit.timeIntervalSinceNow
                // Anything before the greeting (a chatty login shell) is skipped.
                while try process.readLine(deadline: limit) != readyLine {}
                ready = true
            }
            var replies: [RemoteShellReply] = []
            for _ in 0..<script.replies {
                replies.append(try RemoteShellReply.read { try process.readLine(deadline: deadline) })
            }
            let last = try process.readLine(deadline: deadline)
            guard last == Array("@END \(end)".utf8) else {
                throw RemoteShellReply.ProtocolError(message: "expected the end of reply \(sequence), got: "
                    + String(decoding: last.prefix(200), as: UTF8.self))
            }
            return replies
        } catch {
            throw fail(error, timeout: timeout)
        }
    }

    /// Ends the remote shell and ssh; later calls fail.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        process?.finish(grace: 2)
        process = nil
        if failure == nil { failure = TransportError("the ssh session to \(target) is closed", unreachable: true) }
    }

    /// Records why the session is over (the first reason wins) and stops ssh.
    private func fail(_ error: Error, timeout: TimeInterval? = nil) -> TransportError {
        if let failure { return failure }
        let failure: TransportError
        switch error {
        case let error as TransportError:
            failure = TransportError(error.message, unreachable: true)
        case SSHProcess.Failure.timedOut where !ready:
            failure = TransportError("\(target): no answer within \(Int(waitedForStart.rounded())) s of connecting"
                + " (ssh or sudo is waiting for something)", unreachable: true)
        case SSHProcess.Failure.timedOut:
            failure = TransportError("\(target): no answer within \(Int(timeout ?? 0)) s; the session was closed",
                                     unreachable: true)
        case let error as RemoteShellReply.ProtocolError:
            failure = TransportError("\(target): the remote shell's output went out of step (\(error.message))",
                                     unreachable: true)
        default:
            // The process ended: give it a moment to report why, then read its stderr.
            process?.finish(grace: 1)
            let stderr = String(decoding: process?.errorText ?? [], as: UTF8.self)
            failure = TransportError(SSHFailure.explain(stderr: stderr, exitStatus: process?.exitStatus,
                                                        target: target, become: become, connected: ready),
                                     unreachable: true)
        }
        process?.terminate()
        self.failure = failure
        return failure
    }

    /// What ssh asks the remote login shell to run: our shell, through sudo for become.
    static func remoteCommand(_ target: SSHTarget, _ become: Become?) throws -> String {
        guard let become, !(become.user == "root" && target.user == "root") else { return "exec /bin/sh" }
        return "exec sudo -n -H -u \(try RemoteShell.quote(become.user)) -- /bin/sh"
    }
}
