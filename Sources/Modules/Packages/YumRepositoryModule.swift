import Provisioner

/// Ansible's `yum_repository`: one `[section]` of a `.repo` file in /etc/yum.repos.d, written as
/// Python's configparser writes it (keys sorted, booleans as 1/0), other sections kept.
struct YumRepositoryModule: Module {
    static let name = "yum_repository"
    static let summary = "A dnf/yum repository section in /etc/yum.repos.d"
    /// Options written as given (text), by their Ansible names.
    static let textOptions = ["bandwidth", "cost", "deltarpm_metadata_percentage", "deltarpm_percentage", "gpgcakey", "include",
                              "metadata_expire", "metalink", "mirrorlist", "mirrorlist_expire", "password", "priority", "proxy",
                              "proxy_password", "proxy_username", "retries", "throttle", "timeout", "ui_repoid_vars", "username"]
    static let boolOptions = ["async", "countme", "enabled", "enablegroups", "gpgcheck", "keepalive", "module_hotfixes", "protect",
                              "repo_gpgcheck", "s3_enabled", "skip_if_unavailable", "ssl_check_cert_permissions", "sslverify"]
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, required: true, doc: "the repository id (the section)"),
        ArgumentSpec("description", .string, doc: "its human name (required for present)"),
        ArgumentSpec("baseurl", .list, doc: "URLs of the repository"),
        ArgumentSpec("gpgkey", .list, doc: "URLs of the signing keys"),
        ArgumentSpec("exclude", .list, aliases: ["excludepkgs"], doc: "packages never taken from it"),
        ArgumentSpec("includepkgs", .list, doc: "the only packages taken from it"),
        ArgumentSpec("file", .string, doc: "file name without .repo (default: name)"),
        ArgumentSpec("reposdir", .path, default: "/etc/yum.repos.d", doc: "folder of the .repo files"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"], doc: "present or absent"),
        ArgumentSpec("failovermethod", .string, choices: ["roundrobin", "priority"], doc: "failover method"),
        ArgumentSpec("http_caching", .string, choices: ["all", "packages", "none"], doc: "HTTP caching"),
        ArgumentSpec("ip_resolve", .string, choices: ["4", "6", "IPv4", "IPv6", "whatever"], doc: "IP version"),
        ArgumentSpec("keepcache", .string, choices: ["0", "1"], doc: "keep downloaded packages"),
        ArgumentSpec("metadata_expire_filter", .string, choices: ["never", "read-only:past", "read-only:present", "read-only:future"],
                     doc: "metadata expiry filter"),
        ArgumentSpec("sslcacert", .string, aliases: ["ca_cert"], doc: "CA certificate file"),
        ArgumentSpec("sslclientcert", .string, aliases: ["client_cert"], doc: "client certificate file"),
        ArgumentSpec("sslclientkey", .string, aliases: ["client_key"], doc: "client key file"),
    ] + textOptions.map { ArgumentSpec($0, .string, doc: "the repository's \($0) option") }
      + boolOptions.filter { $0 != "sslverify" }.map { ArgumentSpec($0, .bool, doc: "the repository's \($0) option (1/0)") }
      + [ArgumentSpec("sslverify", .bool, aliases: ["validate_certs"], doc: "verify TLS certificates (1/0)")]
      + FileAttributeArguments.specs

    let section: String
    let options: [(String, String)]
    let path: String
    let reposdir: String
    let present: Bool
    let attributes: FileAttributeArguments
    let mode: UInt32?

    init(_ arguments: ModuleArguments) throws {
        section = arguments.string("name") ?? ""
        present = arguments.string("state") != "absent"
        reposdir = arguments.string("reposdir") ?? "/etc/yum.repos.d"
        path = PathText.join(reposdir, (arguments.string("file") ?? section) + ".repo")
        attributes = FileAttributeArguments(arguments)
        mode = try attributes.mode(current: nil, isDirectory: false)
        var options: [(String, String)] = []
        for spec in YumRepositoryModule.arguments where !["name", "file", "reposdir", "state", "mode", "owner", "group"].contains(spec.name) {
            guard let value = arguments[spec.name] else { continue }
            let key = spec.name == "description" ? "name" : spec.name
            switch spec.name {
            case "baseurl", "gpgkey": options.append((key, (arguments.strings(spec.name) ?? []).joined(separator: "\n")))
            case "exclude", "includepkgs": options.append((key, (arguments.strings(spec.name) ?? []).joined(separator: " ")))
            default:
                if spec.kind == .bool { options.append((key, arguments.bool(spec.name) ? "1" : "0")) } else { options.append((key, value.string ?? value.pythonText)) }
            }
        }
        self.options = options.sorted { $0.0 < $1.0 }
        if section.isEmpty || section.contains("]") || section.contains("\n") { throw ModuleError("'\(section)' is not a repository id", argument: "name") }
        if present {
            if arguments["description"] == nil { throw ModuleError("state is present but all of the following are missing: description", argument: "description") }
            if arguments["baseurl"] == nil && arguments["mirrorlist"] == nil && arguments["metalink"] == nil {
                throw ModuleError("state is present but any of the following are missing: baseurl, mirrorlist, metalink", argument: "baseurl")
            }
        }
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        [.file(path: path, content: true), .file(path: reposdir, content: false)] + attributes.observations()
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        guard observed.file(reposdir)?.kind == .directory else { return .failed("Repo directory '\(reposdir)' does not exist.") }
        let current = observed.file(path)
        var ini = INI(String(decoding: current?.content ?? [], as: UTF8.self))
        ini.remove(section)
        if present { ini.sections.append((section, options)) }
        let result: ValueDict = ["repo": .string(section), "state": .string(present ? "present" : "absent")]
        // Ansible compares the sections sorted, so a file that only differs in order or comments is left alone.
        if ini.dump() == INI(String(decoding: current?.content ?? [], as: UTF8.self)).dump() {
            guard let current else { return Plan(result: result) }
            return Plan(changes: try attributes.changes(path, current, observed), result: result)
        }
        var file = RepositoryFile(path: path, mode: mode ?? current?.mode ?? 0o644, owner: attributes.owner, group: attributes.group)
        if current == nil, mode == nil { file.mode = 0o644 }
        return Plan(changes: file.changes(ini.sections.isEmpty ? nil : Array(ini.write().utf8), current: current, observed: observed), result: result)
    }

    /// Python's RawConfigParser, as far as .repo files need it: sections of `key = value` (keys lower
    /// case, continuation lines indented), comments dropped.
    struct INI {
        var sections: [(name: String, options: [(String, String)])] = []

        init(_ text: String) {
            for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let line = String(raw)
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("#") || trimmed.hasPrefix(";") || trimmed.isEmpty { continue }
                if line.first == " " || line.first == "\t", !sections.isEmpty, !sections[sections.count - 1].options.isEmpty {
                    let last = sections[sections.count - 1].options.count - 1
                    sections[sections.count - 1].options[last].1 += "\n" + trimmed
                    continue
                }
                if trimmed.hasPrefix("["), trimmed.hasSuffix("]") {
                    sections.append((String(trimmed.dropFirst().dropLast()), []))
                    continue
                }
                guard !sections.isEmpty, let split = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
                let key = trimmed[..<split].trimmingCharacters(in: .whitespaces).lowercased()
                let value = trimmed[trimmed.index(after: split)...].trimmingCharacters(in: .whitespaces)
                if let index = sections[sections.count - 1].options.firstIndex(where: { $0.0 == key }) {
                    sections[sections.count - 1].options[index].1 = value
                } else {
                    sections[sections.count - 1].options.append((key, value))
                }
            }
        }

        mutating func remove(_ name: String) { sections.removeAll { $0.name == name } }

        /// configparser's `write`: a blank line after each section, continuation lines tab-indented.
        func write() -> String {
            sections.map { section in
                "[\(section.name)]\n" + section.options.map { "\($0.0) = \($0.1.replacingOccurrences(of: "\n", with: "\n\t"))\n" }.joined() + "\n"
            }.joined()
        }

        /// Ansible's `dump`: sections and keys sorted, for comparing.
        func dump() -> String {
            sections.sorted { $0.name < $1.name }.map { section in
                "[\(section.name)]\n" + section.options.sorted { $0.0 < $1.0 }.map { "\($0.0) = \($0.1)\n" }.joined() + "\n"
            }.joined()
        }
    }
}
