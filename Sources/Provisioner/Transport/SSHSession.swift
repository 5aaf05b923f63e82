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
    /// The host lock this session takes in its first round trip (nil: none).
    private let hostLock: HostLock?
    /// Folders already rid of stale temp files in this session.
    private var sweptFolders = Set<String>()

    init(target: SSHTarget, become: Become?, hostLock: HostLock? = nil) throws {
        self.target = target
        self.become = become
        self.hostLock = hostLock
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
            let lock = hostLock.map { RemoteShellLibrary.Lock(timeout: $0.timeout, token: $0.token, holder: $0.holder) }
            try process.write(Array(try RemoteShellLibrary.prelude(nonce: nonce, rootless: rootless, lock: lock).utf8),
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
        var deadline = timeout.map { Date().addingTimeInterval($0) }
        // Until the host answers, waiting for another apply's lock is not waiting for the host.
        let lockWait = Double(hostLock.map { $0.timeout + 2 } ?? 0)
        let start = Date().addingTimeInterval(startTimeout + lockWait)
        let limit = deadline.map { min($0.addingTimeInterval(lockWait), start) } ?? start
        do {
            try process.write(Array(script.text.utf8), deadline: ready ? deadline : limit)
            if !ready {
                waitedForStart = limit.timeIntervalSinceNow
                try awaitReady(process, until: limit)
                ready = true
                // The request's own time starts now that the host answers.
                deadline = timeout.map { Date().addingTimeInterval($0) }
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

    /// Reads up to the greeting: what the host lock says on the way, anything else (a chatty
    /// login shell) skipped.
    private func awaitReady(_ process: SSHProcess, until limit: Date) throws {
        while true {
            let line = try process.readLine(deadline: limit)
            if line == readyLine { return }
            guard let hostLock, line.starts(with: Array("@".utf8)) else { continue }
            let text = String(decoding: line, as: UTF8.self)
            let holder = text.split(separator: " ", maxSplits: 1).dropFirst().first
                .flatMap { Data(base64Encoded: String($0)) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
            if text.hasPrefix("@WAIT ") {
                hostLock.tell(target.name, .waiting(holder: HostLock.printable(holder)))
            } else if text.hasPrefix("@BUSY ") {
                throw hostLock.busy(target.name, holder: holder)
            } else if text == "@LOCK none" {
                hostLock.tell(target.name, .unavailable)
            }
        }
    }

    /// Those of `folders` not yet swept of stale temp files in this session (now counted as swept).
    func claimUnswept(_ folders: [String]) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return folders.filter { sweptFolders.insert($0).inserted }
    }

    /// The host lock this session took, if any.
    var lockSettings: HostLock? { hostLock }

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
