import Foundation

/// The settings of an `ansible.cfg` that provision honours, found where Ansible
/// finds it, with the environment variables Ansible documents for them taking
/// precedence over the file. Host variables (`ansible_port`, ...) override these
/// in turn (see `SSHTarget`). Unset values are nil: the caller's default applies.
public struct AnsibleConfig: Equatable, Sendable {
    /// A key provision reads no meaning from (shown under `-v`).
    public struct IgnoredSetting: Hashable, Sendable, CustomStringConvertible {
        public var section: String
        public var key: String
        public var location: SourceLocation
        public var description: String { "\(location): [\(section)] \(key)" }
    }

    /// The file read; nil when none was found.
    public var path: String?
    public var inventory: [String]?
    public var forks: Int?
    public var hostKeyChecking = true
    public var remoteUser: String?
    public var remotePort: Int?
    public var privateKeyFile: String?
    public var rolesPath: [String]?
    /// ssh's ConnectTimeout, in seconds.
    public var timeout = 10
    /// nil: Ansible's default, `SSHTarget.defaultSSHArgs`.
    public var sshArgs: String?
    public var sshCommonArgs: String?
    public var sshExtraArgs: String?
    public var controlPathDir: String?
    /// Ansible's `control_path` template (`%(directory)s/%%C`); nil: DIR/%C.
    public var controlPath: String?
    public var become: Bool?
    public var becomeUser: String?
    public var becomeMethod: String?
    public var ignored: [IgnoredSetting] = []
    /// Things to tell the user (an ansible.cfg skipped in a world-writable directory).
    public var warnings: [String] = []

    public init() {}

    /// Finds and reads the file as Ansible does, then applies the environment.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment,
                            currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> AnsibleConfig {
        let (found, warnings) = locate(environment: environment, currentDirectory: currentDirectory)
        var config: AnsibleConfig
        if let found {
            guard let data = FileManager.default.contents(atPath: found) else {
                throw ParseError("cannot read the file", at: SourceLocation(file: found, line: 1, column: 1))
            }
            config = try AnsibleConfig(text: String(decoding: data, as: UTF8.self), path: found, environment: environment)
        } else {
            config = try AnsibleConfig(text: "", path: nil, environment: environment)
        }
        config.warnings = warnings + config.warnings
        return config
    }

    /// The first of `$ANSIBLE_CONFIG` (a file, or a folder holding ansible.cfg),
    /// `./ansible.cfg` (skipped in a world-writable folder, as Ansible does),
    /// `~/.ansible.cfg` and `/etc/ansible/ansible.cfg` that exists and is readable.
    public static func locate(environment: [String: String], currentDirectory: String) -> (path: String?, warnings: [String]) {
        var candidates: [String] = []
        var warnings: [String] = []
        if let value = environment["ANSIBLE_CONFIG"] {
            var path = absolute(expandingTilde(value, environment: environment), from: currentDirectory)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                path += "/ansible.cfg"
            }
            candidates.append(path)
        }
        let local = (currentDirectory as NSString).appendingPathComponent("ansible.cfg")
        var folder = stat()
        if stat(currentDirectory, &folder) == 0 && folder.st_mode & S_IWOTH != 0 {
            if FileManager.default.fileExists(atPath: local) {
                warnings.append("ignoring \(local): \(currentDirectory) is world-writable (Ansible ignores it too)")
            }
        } else {
            candidates.append(local)
        }
        if let home = environment["HOME"] ?? ProcessInfo.processInfo.environment["HOME"] {
            candidates.append((home as NSString).appendingPathComponent(".ansible.cfg"))
        }
        candidates.append("/etc/ansible/ansible.cfg")
        let path = candidates.first { FileManager.default.isReadableFile(atPath: $0) && !isDirectory($0) }
        return (path, warnings)
    }

    /// Reads `text` (the file at `path`) and then the environment overrides.
    public init(text: String, path: String?, environment: [String: String] = [:]) throws {
        self.path = path
        let file = path ?? "ansible.cfg"
        let ini = try INIFile(text, file: file)
        let base = path.map { ($0 as NSString).deletingLastPathComponent } ?? FileManager.default.currentDirectoryPath
        let cwd = FileManager.default.currentDirectoryPath

        for entry in ini.entries where Self.handled[entry.section]?.contains(entry.key) != true {
            ignored.append(IgnoredSetting(section: entry.section, key: entry.key, location: entry.location))
        }
        // Later sources win, as in Ansible: [defaults] then [ssh_connection], then the environment.
        func setting(_ keys: [(String, String)], _ variables: [String]) -> (value: String, location: SourceLocation?)? {
            var found: (String, SourceLocation?)?
            for (section, key) in keys {
                if let entry = ini.value(section, key) { found = (entry.value, entry.location) }
            }
            for name in variables {
                if let value = environment[name] { found = (value, nil) }
            }
            return found
        }
        // Relative paths are relative to the file's folder, or to the current one for the environment's.
        func resolved(_ text: String, _ location: SourceLocation?) -> String {
            Self.absolute(Self.expandingTilde(text, environment: environment), from: location == nil ? cwd : base)
        }
        func paths(_ text: String, _ location: SourceLocation?, separator: Character) -> [String] {
            text.split(separator: separator).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                .map { resolved($0, location) }
        }
        func integer(_ name: String, _ found: (value: String, location: SourceLocation?)) throws -> Int {
            guard let value = Int(found.value.trimmingCharacters(in: .whitespaces)) else {
                throw ParseError("\(name) must be a whole number, not '\(found.value)'",
                                 at: found.location ?? SourceLocation(file: "environment", line: 1, column: 1))
            }
            return value
        }
        func boolean(_ name: String, _ found: (value: String, location: SourceLocation?)) throws -> Bool {
            guard let value = Self.boolean(found.value) else {
                throw ParseError("\(name) must be a boolean (true/false, yes/no, on/off, 1/0), not '\(found.value)'",
                                 at: found.location ?? SourceLocation(file: "environment", line: 1, column: 1))
            }
            return value
        }

        if let found = setting([("defaults", "inventory")], ["ANSIBLE_INVENTORY"]) {
            inventory = paths(found.value, found.location, separator: ",")
        }
        if let found = setting([("defaults", "forks")], ["ANSIBLE_FORKS"]) { forks = try integer("forks", found) }
        if let found = setting([("defaults", "host_key_checking"), ("ssh_connection", "host_key_checking")],
                               ["ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_SSH_HOST_KEY_CHECKING"]) {
            hostKeyChecking = try boolean("host_key_checking", found)
        }
        remoteUser = setting([("defaults", "remote_user")], ["ANSIBLE_REMOTE_USER"])?.value
        if let found = setting([("defaults", "remote_port")], ["ANSIBLE_REMOTE_PORT"]) {
            let port = try integer("remote_port", found)
            guard (1...65535).contains(port) else {
                throw ParseError("port \(port) is out of range (1-65535)",
                                 at: found.location ?? SourceLocation(file: "ANSIBLE_REMOTE_PORT", line: 1, column: 1))
            }
            remotePort = port
        }
        if let found = setting([("defaults", "private_key_file")], ["ANSIBLE_PRIVATE_KEY_FILE"]) {
            privateKeyFile = resolved(found.value.trimmingCharacters(in: .whitespaces), found.location)
        }
        if let found = setting([("defaults", "roles_path")], ["ANSIBLE_ROLES_PATH"]) {
            rolesPath = paths(found.value, found.location, separator: ":")
        }
        if let found = setting([("defaults", "timeout"), ("ssh_connection", "timeout")], ["ANSIBLE_TIMEOUT", "ANSIBLE_SSH_TIMEOUT"]) {
            timeout = try integer("timeout", found)
        }
        sshArgs = setting([("ssh_connection", "ssh_args")], ["ANSIBLE_SSH_ARGS"])?.value
        sshCommonArgs = setting([("ssh_connection", "ssh_common_args")], ["ANSIBLE_SSH_COMMON_ARGS"])?.value
        sshExtraArgs = setting([("ssh_connection", "ssh_extra_args")], ["ANSIBLE_SSH_EXTRA_ARGS"])?.value
        controlPath = setting([("ssh_connection", "control_path")], ["ANSIBLE_SSH_CONTROL_PATH"])?.value
        controlPathDir = setting([("ssh_connection", "control_path_dir")], ["ANSIBLE_SSH_CONTROL_PATH_DIR"])
            .map { Self.expandingTilde($0.value, environment: environment) }
        if let found = setting([("privilege_escalation", "become")], ["ANSIBLE_BECOME"]) { become = try boolean("become", found) }
        becomeUser = setting([("privilege_escalation", "become_user")], ["ANSIBLE_BECOME_USER"])?.value
        becomeMethod = setting([("privilege_escalation", "become_method")], ["ANSIBLE_BECOME_METHOD"])?.value
    }

    /// The keys read above, by section.
    static let handled: [String: Set<String>] = [
        "defaults": ["inventory", "forks", "host_key_checking", "remote_user", "remote_port", "private_key_file",
                     "roles_path", "timeout"],
        "ssh_connection": ["ssh_args", "ssh_common_args", "ssh_extra_args", "control_path", "control_path_dir", "host_key_checking", "timeout"],
        "privilege_escalation": ["become", "become_user", "become_method"],
    ]

    /// Ansible's booleans (`y/yes/on/1/true/t` and their opposites, any case); nil for anything else.
    static func boolean(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "y", "yes", "on", "1", "true", "t": return true
        case "n", "no", "off", "0", "false", "f": return false
        default: return nil
        }
    }

    /// `~` and `~/x` as the shell expands them (`~user` is left alone).
    static func expandingTilde(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        guard path == "~" || path.hasPrefix("~/"), let home = environment["HOME"] ?? ProcessInfo.processInfo.environment["HOME"] else {
            return path
        }
        return home + path.dropFirst()
    }

    static func expandingTilde(_ path: String) -> String { expandingTilde(path, environment: ProcessInfo.processInfo.environment) }

    private static func absolute(_ path: String, from folder: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: folder).appendingPathComponent(path).standardized.path
    }

    private static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }
}

/// The INI dialect Python's configparser reads for Ansible: `key = value` or
/// `key: value`, keys case-insensitive, `#`/`;` comment lines, inline comments
/// only after whitespace and `;`, indented continuation lines, `[DEFAULT]` as a
/// fallback for every section, duplicate sections and keys an error.
struct INIFile {
    struct Entry {
        var section: String
        var key: String
        var value: String
        var location: SourceLocation
    }

    private(set) var entries: [Entry] = []

    init(_ text: String, file: String) throws {
        var section: String?
        var sections: Set<String> = []
        var current: Int?          // the entry a continuation line extends
        var currentIndent = 0
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw[...]
            let location = SourceLocation(file: file, line: offset + 1, column: 1)
            let stripped = line.trimmingCharacters(in: .whitespaces)
            if stripped.isEmpty || stripped.hasPrefix("#") || stripped.hasPrefix(";") {
                if stripped.isEmpty { current = nil }
                continue
            }
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            if let index = current, indent > currentIndent {
                entries[index].value += "\n" + Self.withoutComment(stripped)
                continue
            }
            current = nil
            if stripped.hasPrefix("["), let close = stripped.lastIndex(of: "]") {
                let name = String(stripped[stripped.index(after: stripped.startIndex)..<close])
                guard sections.insert(name).inserted else {
                    throw ParseError("section [\(name)] appears twice", at: location)
                }
                section = name
                continue
            }
            guard let section else {
                throw ParseError("a setting before any [section] header", at: location)
            }
            guard let delimiter = stripped.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw ParseError("expected 'key = value', got '\(stripped)'", at: location)
            }
            let key = stripped[..<delimiter].trimmingCharacters(in: .whitespaces).lowercased()
            let value = Self.withoutComment(stripped[stripped.index(after: delimiter)...].trimmingCharacters(in: .whitespaces))
            guard !key.isEmpty else { throw ParseError("a setting without a key", at: location) }
            guard !entries.contains(where: { $0.section == section && $0.key == key }) else {
                throw ParseError("[\(section)] \(key) is set twice", at: location)
            }
            entries.append(Entry(section: section, key: key, value: value, location: location))
            current = entries.count - 1
            currentIndent = indent
        }
    }

    /// The value of `key` in `section`, or in `[DEFAULT]`.
    func value(_ section: String, _ key: String) -> Entry? {
        entries.first { $0.section == section && $0.key == key } ?? entries.first { $0.section == "DEFAULT" && $0.key == key }
    }

    /// configparser's inline comments: `;` after whitespace.
    private static func withoutComment(_ text: String) -> String {
        var previous: Character = " "
        for index in text.indices {
            if text[index] == ";" && (previous == " " || previous == "\t") {
                return text[..<index].trimmingCharacters(in: .whitespaces)
            }
            previous = text[index]
        }
        return text
    }
}
