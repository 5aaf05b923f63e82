import Foundation

/// One apply per host at a time. Each session to a host takes a lock on the host itself
/// (`flock` on `/run/provision.lock` as root, a file of the user's own otherwise) in its
/// first round trip and holds it until its shell ends, however it ends; a second apply
/// waits up to `timeout` seconds, saying who holds it, then fails. Sessions of one run
/// (another user on the same host, the same host under two names) join the run's lock
/// instead of waiting for it. The local connection takes the same file on this machine.
public struct HostLock: Sendable {
    public enum Event: Sendable {
        /// Another apply holds the lock: `holder` says whose it is.
        case waiting(holder: String)
        /// The host cannot be locked (no flock there): applies are not kept apart.
        case unavailable
        /// Temp files an interrupted run left, removed.
        case removedLeftovers([String])
    }

    /// Seconds to wait for another apply (0: a second, enough for a session of this run to say it is one).
    public var timeout: Int
    /// This apply, as the others' messages show it ("the apply started at … by …").
    public var holder: String
    /// Marks this run's locks, so that its other sessions join rather than wait.
    public var token: String
    /// Whether stale temp files of interrupted runs are removed (not in check mode).
    public var removesLeftovers: Bool
    /// Where events go, with the inventory name of the host.
    public var report: @Sendable (_ host: String, _ event: Event) -> Void

    public init(timeout: Int, holder: String = HostLock.defaultHolder, token: String = HostLock.runToken,
                removesLeftovers: Bool, report: @escaping @Sendable (_ host: String, _ event: Event) -> Void) {
        self.timeout = timeout
        self.holder = holder
        self.token = token
        self.removesLeftovers = removesLeftovers
        self.report = report
    }

    /// One per process: every lock this process takes carries it.
    public static let runToken = String(UInt64.random(in: 1...UInt64.max), radix: 36) + "-" + String(getpid())

    /// "the apply started at 2026-12-02 14:18:26 UTC by root@ctl (pid 4242)".
    public static let defaultHolder: String = {
        let user = getpwuid(geteuid()).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? String(geteuid())
        // gethostname, not ProcessInfo.hostName, which may wait on DNS.
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count - 1) == 0 ? String(cString: name) : "?"
        return "the apply started at \(utcStamp(time(nil))) by \(user)@\(host) (pid \(getpid()))"
    }()

    /// "2026-12-02 14:18:26 UTC", with the C library: a DateFormatter loads ICU, several milliseconds of
    /// every run's start.
    static func utcStamp(_ seconds: time_t) -> String {
        var now = seconds, parts = tm()
        guard gmtime_r(&now, &parts) != nil else { return "\(seconds) s after the epoch" }
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }

    /// Hosts already told to be without a lock: a host says so once, not once per session.
    private let unlocked = UnlockedHosts()

    /// Passes `event` on (an `.unavailable` once per host).
    func tell(_ host: String, _ event: Event) {
        if case .unavailable = event, !unlocked.first(host) { return }
        report(host, event)
    }

    /// The failure once the wait is over.
    func busy(_ host: String, holder: String) -> TransportError {
        TransportError("\(host): another apply is running there: \(HostLock.printable(holder)) holds the host lock;"
            + " gave up after \(timeout) s (--lock-timeout)", unreachable: true)
    }

    /// Text from a host, fit for a terminal: control characters shown as `?`.
    static func printable(_ text: String) -> String {
        let shown = String(text.unicodeScalars.map { $0.value < 32 || $0.value == 127 ? "?" : Character($0) })
        return shown.isEmpty ? "an apply that did not say who it is" : shown
    }
}

private final class UnlockedHosts: @unchecked Sendable {
    private let mutex = NSLock()
    private var hosts = Set<String>()

    func first(_ host: String) -> Bool { mutex.withLock { hosts.insert(host).inserted } }
}

/// The host lock of this machine, for local connections: the file an ssh session here
/// would take, held by this process while any local connection of it is open.
final class LocalHostLock: @unchecked Sendable {
    static let shared = LocalHostLock()

    private let mutex = NSLock()
    private var descriptor: Int32 = -1
    private var users = 0
    /// The lock file while held (or joined): its time is when this run took it.
    private(set) var path: String?

    /// Where the lock lives for this process's user; nil when nowhere fits.
    static func lockPath() -> String? {
        let uid = geteuid()
        let fm = FileManager.default
        if uid == 0 { return fm.fileExists(atPath: "/run") ? "/run/provision.lock" : nil }
        if access("/run/user/\(uid)", W_OK) == 0 { return "/run/user/\(uid)/provision.lock" }
        if let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty, access(home, W_OK) == 0 {
            return home + "/.provision.lock"
        }
        return nil
    }

    func acquire(_ lock: HostLock, host: String) throws {
        mutex.lock()
        defer { mutex.unlock() }
        if users > 0 {
            users += 1
            return
        }
        guard let path = Self.lockPath() else {
            lock.tell(host, .unavailable)
            return
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            lock.tell(host, .unavailable)
            return
        }
        let start = Date()
        var announced: String?
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = Self.readHolder(path)
            if holder.hasPrefix(lock.token + " ") {
                // This run reaches the machine over ssh too and took the lock there: join it.
                close(fd)
                users = 1
                self.path = path
                return
            }
            let waited = Date().timeIntervalSince(start)
            let text = String(holder.drop { $0 != " " }.dropFirst())
            if waited >= Double(max(lock.timeout, 1)) {
                close(fd)
                throw lock.busy(host, holder: text)
            }
            if waited >= 1 && holder != announced {
                announced = holder
                lock.tell(host, .waiting(holder: text))
            }
            usleep(100_000)
        }
        let line = Array("\(lock.token) \(lock.holder)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = fd
        users = 1
        self.path = path
    }

    func release() {
        mutex.lock()
        defer { mutex.unlock() }
        guard users > 0 else { return }
        users -= 1
        guard users == 0 else { return }
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        path = nil
    }

    private static func readHolder(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }
}
