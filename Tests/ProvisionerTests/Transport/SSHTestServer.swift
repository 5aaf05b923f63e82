import Foundation
import XCTest
@testable import Provisioner

/// A private sshd on 127.0.0.1 for transport tests: its own host key, key-only
/// auth, a generated client key and a known_hosts file of its own, all in a
/// scratch folder. The client ignores ~/.ssh/config (`-F /dev/null`) and agents.
final class SSHTestServer {
    let directory: URL
    private(set) var port: Int
    let clientKey: String
    let knownHosts: String
    /// Who the server lets in: root when the tests run as root, else the current user.
    let user: String
    private var pid: pid_t?

    /// Starts one, or skips the test when sshd is not installed (a failure under
    /// PROVISION_REQUIRE_INTEGRATION=1).
    static func start() throws -> SSHTestServer {
        for tool in ["/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen"] where !FileManager.default.isExecutableFile(atPath: tool) {
            if ProcessInfo.processInfo.environment["PROVISION_REQUIRE_INTEGRATION"] == "1" {
                throw SSHTestError("\(tool) is missing, and PROVISION_REQUIRE_INTEGRATION=1 requires the ssh tests"
                    + " (apt-get install openssh-server openssh-client sudo)")
            }
            throw XCTSkip("\(tool) is not installed (apt-get install openssh-server); set PROVISION_REQUIRE_INTEGRATION=1 to fail instead")
        }
        let server = try SSHTestServer()
        try server.launch()
        return server
    }

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("provision-sshd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, 0o755)
        clientKey = directory.appendingPathComponent("client_key").path
        knownHosts = directory.appendingPathComponent("known_hosts").path
        user = geteuid() == 0 ? "root" : (ProcessInfo.processInfo.environment["USER"] ?? NSUserName())
        port = try Self.freePort()
        try Self.keygen(clientKey)
        try rotateHostKey()
        try FileManager.default.copyItem(atPath: clientKey + ".pub", toPath: directory.appendingPathComponent("authorized_keys").path)
        if geteuid() == 0 { try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true) }
        // Sessions keep their scratch folders here, removed with the server, whatever happens to them.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        chmod(directory.appendingPathComponent("tmp").path, 0o1777)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Variables for an inventory host served by this sshd.
    func variables(user: String? = nil, knownHosts: String? = nil, _ extra: [(String, Value)] = []) -> ValueDict {
        var vars = ValueDict([
            ("ansible_host", "127.0.0.1"),
            ("ansible_port", .int(port)),
            ("ansible_user", .string(user ?? self.user)),
            ("ansible_ssh_private_key_file", .string(clientKey)),
            ("ansible_ssh_common_args", .string("-F /dev/null -o IdentitiesOnly=yes -o IdentityAgent=none"
                + " -o UserKnownHostsFile=\(knownHosts ?? self.knownHosts)")),
            // Each test sees its own connections: a shared one would outlive the test and skip host key checks.
            ("ansible_ssh_args", ""),
        ])
        for (key, value) in extra { vars[key] = value }
        return vars
    }

    /// A YAML inventory of `hosts`, every one served by this sshd (as JSON, which YAML reads).
    func inventory(_ hosts: [String], _ extra: [(String, Value)] = []) -> String {
        let entries = hosts.map { ($0, Value.dict(variables(extra))) }
        return Value.dict(["all": .dict(["hosts": .dict(ValueDict(entries))])]).json + "\n"
    }

    /// A new host key (and the known_hosts line for it when `record` is true).
    func rotateHostKey(record: Bool = true) throws {
        let key = directory.appendingPathComponent("host_key").path
        try? FileManager.default.removeItem(atPath: key)
        try? FileManager.default.removeItem(atPath: key + ".pub")
        try Self.keygen(key)
        if record {
            let pub = try String(contentsOfFile: key + ".pub", encoding: .utf8)
            try "[127.0.0.1]:\(port) \(pub)".write(toFile: knownHosts, atomically: true, encoding: .utf8)
        }
    }

    func launch() throws {
        let config = """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(directory.path)/host_key
            AuthorizedKeysFile \(directory.path)/authorized_keys
            PidFile \(directory.path)/sshd.pid
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin prohibit-password
            StrictModes no
            UsePAM no
            PrintMotd no
            LogLevel ERROR
            SetEnv TMPDIR=\(directory.path)/tmp

            """
        let configPath = directory.appendingPathComponent("sshd_config").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        // Not Foundation's Process: sshd closes the descriptor Process watches (see SSHProcess.spawn).
        let log = directory.appendingPathComponent("sshd.log").path
        let logFD = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(logFD); close(null) }
        let sshd = try SSHProcess.spawn("/usr/sbin/sshd", ["-D", "-e", "-f", configPath], stdin: null, stdout: null, stderr: logFD)
        pid = sshd
        let deadline = Date().addingTimeInterval(10)
        while !Self.accepts(port) {
            var status: Int32 = 0
            guard waitpid(sshd, &status, WNOHANG) == 0, Date() < deadline else {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw SSHTestError("sshd did not start: \(text)")
            }
            usleep(20_000)
        }
    }

    /// Stops the listener (sessions it already forked live on).
    func stop() {
        guard let pid else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        self.pid = nil
    }

    /// Kills everything serving connections (the descendants of the sshd we
    /// started, found by parent pid): the clients see their connections drop.
    func killSessions() {
        guard let parent = pid else { return }
        var found: [pid_t] = []
        var parents = [parent]
        while let next = parents.popLast() {
            let children = Self.children(of: next)
            found += children
            parents += children
        }
        for process in found { kill(process, SIGKILL) }
    }

    /// Kills only the sshd processes serving connections (not the shells they run): the
    /// clients' connections drop, and the shells see their input end.
    func killSessionProcesses() {
        guard let parent = pid else { return }
        var parents = [parent]
        while let next = parents.popLast() {
            for child in Self.children(of: next) {
                parents.append(child)
                let name = (try? String(contentsOfFile: "/proc/\(child)/comm", encoding: .utf8)) ?? ""
                if name.hasPrefix("sshd") { kill(child, SIGKILL) }
            }
        }
    }

    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }

    private static func keygen(_ path: String) throws {
        let result = try TestSupport.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "provision-test", "-f", path])
        guard result.status == 0 else { throw SSHTestError("ssh-keygen failed: \(result.stderr)") }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Bool in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw SSHTestError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

struct SSHTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
