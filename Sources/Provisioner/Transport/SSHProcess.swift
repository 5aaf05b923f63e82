import Foundation

/// The `ssh` client process and its three streams, each a socket pair: a write
/// after ssh died fails with EPIPE instead of raising SIGPIPE. All I/O is
/// non-blocking and driven by poll(2), so reads and writes interleave (neither
/// side can fill a buffer and stall the other), and every wait has a deadline and
/// notices a dead process within a second.
final class SSHProcess {
    enum Failure: Error {
        /// ssh exited or closed its output.
        case ended
        case timedOut
    }

    private let pid: pid_t
    private var status: Int32?
    private var input: Int32
    private var output: Int32
    private var errors: Int32
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already handed out, and how far the newline search got.
    private var consumed = 0
    private var scanned = 0
    /// The last bytes ssh wrote to stderr: what explains a failure.
    private(set) var errorText: [UInt8] = []
    private static let errorLimit = 64 * 1024

    init(arguments: [String]) throws {
        guard let ssh = Self.executable("ssh") else {
            throw TransportError("the OpenSSH client (ssh) is not installed on this machine", unreachable: true)
        }
        // Socket pairs are created close-on-exec atomically, so no other child inherits them.
        let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        var stdinPair: [Int32] = [-1, -1], stdoutPair: [Int32] = [-1, -1], stderrPair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, kind, 0, &stdinPair) == 0, socketpair(AF_UNIX, kind, 0, &stdoutPair) == 0,
              socketpair(AF_UNIX, kind, 0, &stderrPair) == 0 else {
            let message = String(cString: strerror(errno))
            for fd in stdinPair + stdoutPair + stderrPair where fd >= 0 { Glibc.close(fd) }
            throw TransportError("cannot create sockets for ssh: \(message)", unreachable: true)
        }
        defer { for fd in [stdinPair[1], stdoutPair[1], stderrPair[1]] { Glibc.close(fd) } }
        input = stdinPair[0]
        output = stdoutPair[0]
        errors = stderrPair[0]
        do {
            pid = try Self.spawn(ssh, arguments, stdin: stdinPair[1], stdout: stdoutPair[1], stderr: stderrPair[1])
        } catch {
            for fd in [input, output, errors] { Glibc.close(fd) }
            throw error
        }
        for fd in [input, output, errors] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    /// posix_spawn rather than Foundation's Process: ssh closes every inherited
    /// descriptor when it starts, which includes the one Process watches to learn
    /// that a child ended; its monitor thread then blocks in waitpid until ssh
    /// exits, and no other Process in the program is seen to finish meanwhile.
    static func spawn(_ path: String, _ arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A clean signal state: whatever this thread blocks or this program ignores is not passed on.
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw TransportError("cannot start \(path): \(String(cString: strerror(result)))", unreachable: true)
        }
        return pid
    }

    deinit {
        terminate()
    }

    /// Reaps ssh when it has exited (never blocks).
    var isRunning: Bool {
        guard status == nil else { return false }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        if result == pid || (result < 0 && errno == ECHILD) {
            // Like a shell: the exit code, or 128 + the signal that ended it.
            let signal = raw & 0x7f
            status = result < 0 ? -1 : (signal == 0 ? (raw >> 8) & 0xff : 128 + signal)
            return false
        }
        return true
    }

    /// ssh's exit status, once it has exited.
    var exitStatus: Int32? { isRunning ? nil : status }

    /// Sends all of `bytes`, reading ssh's output meanwhile.
    func write(_ bytes: [UInt8], deadline: Date?) throws {
        var offset = 0
        while offset < bytes.count {
            guard input >= 0 else { throw Failure.ended }
            let n = bytes.withUnsafeBytes { raw in
                send(input, raw.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                offset += n
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                try pump(writing: true, deadline: deadline)
            } else {
                throw Failure.ended
            }
        }
    }

    /// The next line of ssh's stdout, without its newline.
    func readLine(deadline: Date?) throws -> [UInt8] {
        while true {
            if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[consumed..<newline])
                consumed = newline + 1
                scanned = consumed
                if consumed > 1 << 20 && consumed * 2 > buffer.count {
                    buffer.removeSubrange(0..<consumed)
                    consumed = 0
                    scanned = 0
                }
                return line
            }
            scanned = buffer.count
            guard output >= 0 else { throw Failure.ended }
            try pump(writing: false, deadline: deadline)
        }
    }

    /// Closes ssh's stdin (the remote shell exits on end of input) and waits up to
    /// `grace` seconds for ssh to finish before terminating it.
    func finish(grace: TimeInterval) {
        if input >= 0 {
            shutdown(input, Int32(SHUT_WR))
        }
        let deadline = Date().addingTimeInterval(grace)
        while output >= 0 || errors >= 0 {
            // Nothing more is expected: drop what arrives.
            consumed = buffer.count
            scanned = consumed
            do { try pump(writing: false, deadline: deadline) } catch { break }
        }
        while isRunning && Date() < deadline { usleep(10_000) }
        terminate()
    }

    /// Ends ssh at once (SIGTERM, then SIGKILL if it lingers), reaps it and releases the streams.
    func terminate() {
        if isRunning {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(2)
            while isRunning && Date() < deadline { usleep(5_000) }
            if isRunning {
                kill(pid, SIGKILL)
                while isRunning && Date() < deadline.addingTimeInterval(5) { usleep(5_000) }
            }
        }
        for fd in [input, output, errors] where fd >= 0 { Glibc.close(fd) }
        input = -1
        output = -1
        errors = -1
    }

    /// Waits for the streams (at most a second at a time, to watch the process),
    /// then reads what is available. Returns when something happened.
    private func pump(writing: Bool, deadline: Date?) throws {
        var fds: [pollfd] = []
        if output >= 0 { fds.append(pollfd(fd: output, events: Int16(POLLIN), revents: 0)) }
        if errors >= 0 { fds.append(pollfd(fd: errors, events: Int16(POLLIN), revents: 0)) }
        if writing && input >= 0 { fds.append(pollfd(fd: input, events: Int16(POLLOUT), revents: 0)) }
        var wait = 1000
        if let deadline {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw Failure.timedOut }
            wait = min(wait, Int((left * 1000).rounded(.up)))
        }
        let ready = poll(&fds, nfds_t(fds.count), Int32(wait))
        if ready < 0 && errno != EINTR { throw Failure.ended }
        if ready <= 0 {
            // ssh may be gone while a child of it (a ProxyCommand) still holds the pipes.
            if !isRunning {
                drain(&output, into: true)
                drain(&errors, into: false)
                if output >= 0 { Glibc.close(output); output = -1 }
            }
            return
        }
        for entry in fds where entry.revents != 0 {
            if entry.fd == output { drain(&output, into: true) }
            if entry.fd == errors { drain(&errors, into: false) }
            if entry.fd == input && entry.revents & Int16(POLLERR | POLLHUP) != 0 {
                Glibc.close(input)
                input = -1
            }
        }
    }

    /// Reads until the stream would block; closes it at end of file.
    private func drain(_ fd: inout Int32, into stdout: Bool) {
        guard fd >= 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                if stdout {
                    buffer.append(contentsOf: chunk[0..<n])
                } else {
                    errorText.append(contentsOf: chunk[0..<n])
                    if errorText.count > Self.errorLimit { errorText.removeFirst(errorText.count - Self.errorLimit) }
                }
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
                    Glibc.close(fd)
                    fd = -1
                }
                return
            }
        }
    }

    private static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where access("\(folder)/\(name)", X_OK) == 0 {
            return "\(folder)/\(name)"
        }
        return nil
    }
}
