import Foundation

/// Where and how to reach one host with the system ssh client, from the host's
/// variables (Ansible's names) over ansible.cfg (and its environment overrides).
/// What neither sets is left to ssh and ~/.ssh/config.
public struct SSHTarget: Hashable, Sendable, CustomStringConvertible {
    /// The inventory name, for messages.
    public var name: String
    /// What ssh connects to: `ansible_host`, else the inventory name (may be a ~/.ssh/config alias).
    public var host: String
    public var port: Int?
    public var user: String?
    public var privateKeyFile: String?
    /// False only when the user turned it off (`host_key_checking = False`).
    public var hostKeyChecking: Bool
    /// Seconds for the TCP connection (ssh's ConnectTimeout; Ansible's `timeout`).
    public var connectTimeout: Int
    /// `ssh_args`, `ssh_common_args` and `ssh_extra_args`, split as Ansible splits them.
    public var sshArgs: [String]
    public var commonArgs: [String]
    public var extraArgs: [String]
    /// The folder of connection-sharing sockets to create before ssh runs, when the
    /// arguments share connections (`ControlPersist`) and name no ControlPath of their own.
    public var controlPathDirectory: String?

    /// Ansible's default `ssh_args`: a connection stays open 60 s after a run and the
    /// next run's sessions ride on it, skipping the key exchange and login.
    public static let defaultSSHArgs = "-C -o ControlMaster=auto -o ControlPersist=60s"

    public init(name: String, host: String? = nil, port: Int? = nil, user: String? = nil, privateKeyFile: String? = nil,
                hostKeyChecking: Bool = true, connectTimeout: Int = 10,
                sshArgs: [String] = [], commonArgs: [String] = [], extraArgs: [String] = []) {
        self.name = name
        self.host = host ?? name
        self.port = port
        self.user = user
        self.privateKeyFile = privateKeyFile
        self.hostKeyChecking = hostKeyChecking
        self.connectTimeout = connectTimeout
        self.sshArgs = sshArgs
        self.commonArgs = commonArgs
        self.extraArgs = extraArgs
    }

    /// The settings for inventory host `name`, with Ansible's precedence: host
    /// variables, then environment, then ansible.cfg.
    public init(host name: String, variables: ValueDict, config: AnsibleConfig = AnsibleConfig()) throws {
        let vars = SSHVariables(host: name, variables: variables)
        self.init(name: name)
        host = try vars.string("ansible_host", "ansible_ssh_host") ?? name
        guard !host.isEmpty, !host.hasPrefix("-"), !host.contains(where: { $0.isWhitespace || $0 == "\0" }) else {
            throw TransportError("\(name): '\(host)' is not a host name or address (ansible_host)", unreachable: true)
        }
        port = try vars.integer("ansible_port", "ansible_ssh_port") ?? config.remotePort
        if let port, !(1...65535).contains(port) {
            throw TransportError("\(name): port \(port) is out of range (1-65535)", unreachable: true)
        }
        user = try vars.string("ansible_user", "ansible_ssh_user") ?? config.remoteUser
        privateKeyFile = try vars.string("ansible_ssh_private_key_file", "ansible_private_key_file")
            .map(AnsibleConfig.expandingTilde) ?? config.privateKeyFile
        // Both travel inside ssh's -o Key="value": a quote or a control character would end or bend it.
        for (setting, value) in [("ansible_user", user), ("ansible_ssh_private_key_file", privateKeyFile)] {
            if let value, value.isEmpty || value.contains(where: { $0 == "\"" || $0.asciiValue.map { $0 < 32 } == true }) {
                throw TransportError("\(name): \(setting) '\(value)' cannot be passed to ssh", unreachable: true)
            }
        }
        hostKeyChecking = try vars.bool("ansible_host_key_checking", "ansible_ssh_host_key_checking") ?? config.hostKeyChecking
        connectTimeout = try vars.integer("ansible_ssh_timeout") ?? config.timeout
        do {
            sshArgs = try RemoteShell.split(try vars.string("ansible_ssh_args") ?? config.sshArgs ?? Self.defaultSSHArgs)
            commonArgs = try RemoteShell.split(try vars.string("ansible_ssh_common_args") ?? config.sshCommonArgs ?? "")
            extraArgs = try RemoteShell.split(try vars.string("ansible_ssh_extra_args") ?? config.sshExtraArgs ?? "")
        } catch let error as TransportError {
            throw TransportError("\(name): ssh arguments: \(error.message)", unreachable: true)
        }
        // As Ansible does: shared connections get a socket per host, port and user (ssh's %C hash).
        let all = sshArgs + commonArgs + extraArgs
        if option("ControlPersist", in: all) != nil || option("ControlMaster", in: all) != nil, option("ControlPath", in: all) == nil {
            let directory = config.controlPathDir ?? AnsibleConfig.expandingTilde("~/.ansible/cp")
            // Ansible's template: %(directory)s is the folder, %% a literal % for ssh (`fleet1-%%C`).
            let template = try vars.string("ansible_control_path") ?? config.controlPath ?? "%(directory)s/%%C"
            let path = template.replacingOccurrences(of: "%(directory)s", with: directory).replacingOccurrences(of: "%%", with: "%")
            // ssh binds PATH.<16 random> first (%C is 40 hex); past a socket path's 107 bytes it would
            // fail to connect at all, so a path that long shares nothing instead.
            let length = path.replacingOccurrences(of: "%C", with: String(repeating: "c", count: 40)).utf8.count
            if length + 17 <= 107 {
                controlPathDirectory = (path as NSString).deletingLastPathComponent
                sshArgs += ["-o", "ControlPath=\(path)"]
            }
        }
    }

    /// `user@host:port` as far as it is known here.
    public var description: String {
        (user.map { "\($0)@" } ?? "") + host + (port.map { ":\($0)" } ?? "")
    }

    /// The ssh command line, in Ansible's order (`ssh_args`, then the settings
    /// above, then common and extra args). ssh keeps the first value it sees for an
    /// option, so BatchMode comes first: nothing may turn prompting back on.
    public func arguments(remoteCommand: String) -> [String] {
        var args = ["-o", "BatchMode=yes"] + sshArgs
        if !hostKeyChecking { args += ["-o", "StrictHostKeyChecking=no"] }
        if let port { args += ["-o", "Port=\(port)"] }
        if let privateKeyFile { args += ["-o", "IdentityFile=\"\(privateKeyFile)\""] }
        if let user { args += ["-o", "User=\"\(user)\""] }
        args += ["-o", "ConnectTimeout=\(connectTimeout)"] + commonArgs + extraArgs
        // A dead peer is noticed within a minute even while a long command runs.
        args += ["-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4", "-T", "--", host, remoteCommand]
        return args
    }

    /// `ssh -O COMMAND` for this host's shared connection (`exit` ends the master), with the same options.
    func controlArguments(_ command: String) -> [String] {
        Array(arguments(remoteCommand: "").dropLast(4)) + ["-O", command, "--", host]
    }

    /// How known_hosts names this host: `[host]:port` unless the port is 22.
    var knownHostsName: String {
        guard let port, port != 22 else { return host }
        return "[\(host)]:\(port)"
    }

    /// The UserKnownHostsFile given in the ssh arguments, if any.
    var knownHostsFile: String? {
        option("UserKnownHostsFile", in: sshArgs + commonArgs + extraArgs)?.split(separator: " ").first.map(String.init)
    }

    /// The value of the first `-o NAME=value` (or `-oNAME value`) in `arguments`; ssh keeps the first.
    private func option(_ name: String, in arguments: [String]) -> String? {
        let key = name.lowercased()
        for (index, arg) in arguments.enumerated() {
            let option = arg.hasPrefix("-o") && arg.count > 2 ? String(arg.dropFirst(2))
                : (arg == "-o" && index + 1 < arguments.count ? arguments[index + 1] : nil)
            guard let option, option.lowercased().hasPrefix(key) else { continue }
            let rest = option.dropFirst(key.count)
            guard rest.first == "=" || rest.first == " " else { continue }
            return String(rest.drop { $0 == "=" || $0 == " " })
        }
        return nil
    }

    /// The user ssh would log in as (`ssh -G`, which reads ~/.ssh/config and
    /// connects nowhere), for messages when no user was set here.
    func configuredUser() -> String? {
        let options = Array(arguments(remoteCommand: "true").dropLast(1))
        guard let process = try? SSHProcess(arguments: ["-G"] + options) else { return nil }
        let deadline = Date().addingTimeInterval(5)
        while let line = try? process.readLine(deadline: deadline) {
            if line.starts(with: Array("user ".utf8)) { return String(decoding: line.dropFirst(5), as: UTF8.self) }
        }
        return nil
    }
}

/// Typed reads of connection variables, each under its Ansible names (first found wins).
struct SSHVariables {
    var host: String
    var variables: ValueDict

    func string(_ names: String...) throws -> String? {
        guard let (name, value) = first(names) else { return nil }
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .null: return nil
        default: throw TransportError("\(host): \(name) must be a string, not \(value.typeName)", unreachable: true)
        }
    }

    func integer(_ names: String...) throws -> Int? {
        guard let (name, value) = first(names) else { return nil }
        switch value {
        case .int(let i): return i
        case .string(let s):
            guard let i = Int(s.trimmingCharacters(in: .whitespaces)) else {
                throw TransportError("\(host): \(name) '\(s)' is not a number", unreachable: true)
            }
            return i
        case .null: return nil
        default: throw TransportError("\(host): \(name) must be a number, not \(value.typeName)", unreachable: true)
        }
    }

    func bool(_ names: String...) throws -> Bool? {
        guard let (name, value) = first(names) else { return nil }
        switch value {
        case .bool(let b): return b
        case .int(let i) where i == 0 || i == 1: return i == 1
        case .string(let s):
            guard let b = AnsibleConfig.boolean(s) else {
                throw TransportError("\(host): \(name) '\(s)' is not a boolean", unreachable: true)
            }
            return b
        case .null: return nil
        default: throw TransportError("\(host): \(name) must be a boolean, not \(value.typeName)", unreachable: true)
        }
    }

    private func first(_ names: [String]) -> (String, Value)? {
        for name in names { if let value = variables[name] { return (name, value.peeled) } }
        return nil
    }
}
