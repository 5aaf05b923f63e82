import Foundation

/// Seed 003's `AirGapDeploy.*.toml`, read as the team wrote it: `[package]`, `[install]` (prefix, user,
/// group) and `[[components]]` of type external-binary, model-file and config-file, turned into a play
/// that creates the user and group, the prefix's folders, installs each component and the systemd
/// service. Every key is either carried out or refused with file:line.
public struct DeployManifest {
    public struct Component {
        public enum Kind: String { case externalBinary = "external-binary", modelFile = "model-file", configFile = "config-file" }
        public enum Source {
            case url(String, checksum: String?)
            case file(String, checksum: String?)
            case content(String)
        }

        public var kind: Kind
        public var name: String
        public var source: Source
        public var installPath: String
        public var required: Bool
        public var location: String
    }

    public var file: String
    public var name: String
    public var version: String
    public var description: String?
    public var prefix: String
    public var user: String?
    public var group: String?
    /// The components bundled: the required ones and those `--include` names.
    public var components: [Component]

    static func fail(_ file: String, _ value: TOMLValue?, _ message: String) -> BundleError {
        let at = value?.mark.map { "\(file):\($0.line):\($0.column)" } ?? file
        return BundleError("\(at): \(message)")
    }

    static func checkKeys(_ table: TOMLTable, allowed: [String], in section: String, file: String) throws {
        for (key, value) in table.entries where !allowed.contains(key) {
            throw fail(file, value, "\(section).\(key) is not understood by provision\(Suggestion.hint(for: key, in: allowed)); known: \(allowed.joined(separator: ", "))")
        }
    }

    static func string(_ table: TOMLTable, _ key: String, in section: String, file: String, required: Bool = true) throws -> String? {
        guard let value = table[key] else {
            if required { throw BundleError("\(file): \(section).\(key) is missing") }
            return nil
        }
        guard let text = value.string, !text.isEmpty else { throw fail(file, value, "\(section).\(key) must be a non-empty string") }
        return text
    }

    public static func load(_ path: String, include: [String]) throws -> DeployManifest {
        guard let data = FileManager.default.contents(atPath: path) else { throw BundleError("\(path): cannot read the manifest") }
        let document = try TOMLDocument(parsing: [UInt8](data), file: path)
        return try DeployManifest(document.root, file: path, include: include)
    }

    public init(_ root: TOMLTable, file: String, include: [String]) throws {
        self.file = file
        try DeployManifest.checkKeys(root, allowed: ["package", "install", "components"], in: "manifest", file: file)
        guard let package = root["package"]?.table else { throw BundleError("\(file): [package] is missing (name, version)") }
        try DeployManifest.checkKeys(package, allowed: ["name", "version", "description"], in: "package", file: file)
        name = try DeployManifest.string(package, "name", in: "package", file: file) ?? ""
        version = try DeployManifest.string(package, "version", in: "package", file: file) ?? ""
        description = try DeployManifest.string(package, "description", in: "package", file: file, required: false)
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw DeployManifest.fail(file, package["name"], "package.name '\(name)' must be letters, digits, '-', '_' or '.'")
        }
        guard let install = root["install"]?.table else { throw BundleError("\(file): [install] is missing (prefix, user, group)") }
        try DeployManifest.checkKeys(install, allowed: ["prefix", "user", "group"], in: "install", file: file)
        prefix = try DeployManifest.string(install, "prefix", in: "install", file: file) ?? ""
        guard prefix.hasPrefix("/"), !prefix.split(separator: "/").contains("..") else {
            throw DeployManifest.fail(file, install["prefix"], "install.prefix must be an absolute path, not '\(prefix)'")
        }
        user = try DeployManifest.string(install, "user", in: "install", file: file, required: false)
        group = try DeployManifest.string(install, "group", in: "install", file: file, required: false) ?? user

        guard let list = root["components"]?.array, !list.isEmpty else { throw BundleError("\(file): no [[components]]") }
        var all: [Component] = []
        for value in list {
            guard let table = value.table else { throw DeployManifest.fail(file, value, "each [[components]] entry must be a table") }
            all.append(try DeployManifest.component(table, mark: value, file: file, prefix: prefix, include: include))
        }
        var seen = Set<String>()
        for component in all where !seen.insert(component.name).inserted {
            throw BundleError("\(component.location): a second component named '\(component.name)'")
        }
        for wanted in include {
            guard let component = all.first(where: { $0.name == wanted }) else {
                throw BundleError("--include \(wanted): no such component in \(file)\(Suggestion.hint(for: wanted, in: all.map(\.name)))")
            }
            if component.required { throw BundleError("--include \(wanted): \(component.location): it is required, so always bundled") }
        }
        components = all.filter { $0.required || include.contains($0.name) }
    }

    static func component(_ table: TOMLTable, mark: TOMLValue, file: String, prefix: String, include: [String]) throws -> Component {
        let location = mark.mark.map { "\(file):\($0.line)" } ?? file
        try checkKeys(table, allowed: ["type", "name", "source", "install_path", "required", "content"], in: "components", file: file)
        let typeName = try string(table, "type", in: "components", file: file) ?? ""
        guard let kind = Component.Kind(rawValue: typeName) else {
            throw fail(file, table["type"], "component type '\(typeName)' is not one provision installs (external-binary, model-file, config-file)")
        }
        let name = try string(table, "name", in: "components", file: file) ?? ""
        var installPath = try string(table, "install_path", in: "components \(name)", file: file) ?? ""
        if !installPath.hasPrefix("/") { installPath = prefix + "/" + installPath }
        guard !installPath.split(separator: "/").contains("..") else { throw fail(file, table["install_path"], "install_path may not use '..'") }
        var required = true
        if let value = table["required"] {
            guard let flag = value.boolean else { throw fail(file, value, "components.required must be true or false") }
            required = flag
        }
        let source: Component.Source
        if let content = table["content"] {
            guard table["source"] == nil, let text = content.string else {
                throw fail(file, content, "content is a string, and replaces source")
            }
            source = .content(text)
        } else if let value = table["source"] {
            guard let sourceTable = value.table else { throw fail(file, value, "source must be a table (source.type = …)") }
            // An optional component left out may keep a placeholder checksum, as the seed's mistral-7b does.
            source = try Self.source(sourceTable, mark: value, component: name, file: file, checkDigest: required || include.contains(name))
        } else {
            throw BundleError("\(location): component \(name) has neither source nor content")
        }
        return Component(kind: kind, name: name, source: source, installPath: installPath, required: required, location: location)
    }

    static func source(_ table: TOMLTable, mark: TOMLValue, component: String, file: String, checkDigest: Bool) throws -> Component.Source {
        let type = try string(table, "type", in: "source", file: file) ?? ""
        func checksum() throws -> String? {
            guard let text = try string(table, "checksum", in: "source", file: file, required: false) else { return nil }
            let hex = text.dropFirst("sha256:".count)
            guard !checkDigest || (text.hasPrefix("sha256:") && hex.count == 64 && hex.allSatisfy(\.isHexDigit)) else {
                throw fail(file, table["checksum"], "source.checksum '\(text)' must be sha256: and 64 hex digits (the real digest, not a placeholder)")
            }
            return text
        }
        switch type {
        case "url":
            try checkKeys(table, allowed: ["type", "url", "checksum"], in: "source", file: file)
            return .url(try string(table, "url", in: "source", file: file) ?? "", checksum: try checksum())
        case "file":
            try checkKeys(table, allowed: ["type", "path", "checksum"], in: "source", file: file)
            var path = try string(table, "path", in: "source", file: file) ?? ""
            if !path.hasPrefix("/") { path = ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path) }
            return .file(path, checksum: try checksum())
        case "github-release":
            try checkKeys(table, allowed: ["type", "repo", "tag", "asset_pattern", "checksum"], in: "source", file: file)
            let repo = try string(table, "repo", in: "source", file: file) ?? ""
            let tag = try string(table, "tag", in: "source", file: file) ?? ""
            let asset = try string(table, "asset_pattern", in: "source", file: file) ?? ""
            guard !asset.contains("*"), !asset.contains("?") else {
                throw fail(file, table["asset_pattern"], "asset_pattern with wildcards needs GitHub's release listing; name the asset exactly")
            }
            return .url("https://github.com/\(repo)/releases/download/\(tag)/\(asset)", checksum: try checksum())
        default:
            throw fail(file, table["type"], "source.type '\(type)' is not one provision fetches (url, file, github-release)")
        }
    }

    // MARK: The play

    /// The bundled file of a component, beside the play (`files/`, where copy looks).
    static func bundledName(_ component: Component) -> String { component.name }

    var playbookName: String { "\(name).yml" }

    /// The registered result of a service unit's copy: `deploy_unit_` and the component's name in letters, digits and _.
    static func unitResult(_ component: Component) -> String {
        "deploy_unit_" + String(component.name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    public var playbookText: String {
        // JSON strings are YAML; text that looks like a template stays text.
        func q(_ text: String) -> String { (Templar.containsTemplate(text) ? "!unsafe " : "") + Value.string(text).json }
        let owner = user ?? "root", group = self.group ?? "root"
        var lines = [
            "# Made by provision from \((file as NSString).lastPathComponent): \(name) \(version)\(description.map { " — " + $0 } ?? "")",
            "# Run offline from its bundle: ./install.sh (./install.sh --dry-run shows the plan).",
            "- name: \(q("Install \(name) \(version) under \(prefix)"))",
            "  hosts: localhost",
            "  connection: local",
            "  gather_facts: false",
            "  become: true",
            "  tasks:",
        ]
        if let groupName = self.group {
            lines += ["    - name: \(q("Group \(groupName)"))", "      group: {name: \(q(groupName)), system: true}"]
        }
        if let user {
            lines += ["    - name: \(q("User \(user), which the service runs as (no login)"))",
                      "      user: {name: \(q(user)), group: \(q(group)), system: true, home: \(q(prefix)), create_home: false, shell: /usr/sbin/nologin}"]
        }
        var folders = [prefix]
        for component in components {
            var parent = (component.installPath as NSString).deletingLastPathComponent
            while parent.hasPrefix(prefix + "/"), !folders.contains(parent) {
                folders.append(parent)
                parent = (parent as NSString).deletingLastPathComponent
            }
        }
        for folder in folders.sorted() {
            lines += ["    - name: \(q("Folder \(folder)"))", "      file: {path: \(q(folder)), state: directory, owner: root, group: \(q(group)), mode: \"0755\"}"]
        }
        var services: [(String, String)] = []
        for component in components {
            let mode: String, fileOwner: String
            switch component.kind {
            case .externalBinary: (mode, fileOwner) = ("0755", "root")
            case .modelFile: (mode, fileOwner) = ("0644", owner)
            case .configFile: (mode, fileOwner) = ("0644", "root")
            }
            let fileGroup = component.kind == .modelFile ? group : "root"
            lines.append("    - name: \(q("\(component.kind.rawValue) \(component.name) -> \(component.installPath)"))")
            let isService = component.installPath.hasPrefix("/etc/systemd/system/") && component.installPath.hasSuffix(".service")
            // A unit file that changed is read again (daemon-reload) before its service is started; an unchanged one is not.
            if isService { lines.append("      register: \(DeployManifest.unitResult(component))") }
            switch component.source {
            case .content(let text):
                lines.append("      copy: {content: \(q(text)), dest: \(q(component.installPath)), owner: \(q(fileOwner)), group: \(q(fileGroup)), mode: \"\(mode)\"}")
            case .url, .file:
                lines.append("      copy: {src: \(q(DeployManifest.bundledName(component))), dest: \(q(component.installPath)), owner: \(q(fileOwner)), group: \(q(fileGroup)), mode: \"\(mode)\"}")
            }
            if isService { services.append(((component.installPath as NSString).lastPathComponent, DeployManifest.unitResult(component))) }
        }
        for (service, registered) in services {
            lines += ["    - name: \(q("Service \(service): systemd reloaded when its unit changed, enabled at boot, running"))",
                      "      service: {name: \(q(service)), state: started, enabled: true, daemon_reload: \"{{ \(registered) is changed }}\"}"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: The bundle

    /// Fetches every component (checking checksums), writes the play beside them and the bundle.
    public func writeBundle(to output: String, binary: String?, progress: @escaping (String) -> Void) throws -> BundleManifest {
        try BundleIO.makeParent(of: output)
        let staging = try BundleIO.temporaryDirectory(beside: output + ".staging")
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var writer = BundleWriter()
        writer.progress = progress
        let folder = "\(BundleCollector.projectFolder)/playbooks"
        for component in components {
            let what = component.kind == .externalBinary ? "Binary" : component.kind == .modelFile ? "Model" : "Config file"
            let inside = "\(folder)/files/\(DeployManifest.bundledName(component))"
            let mode = component.kind == .externalBinary ? 0o755 : 0o644
            switch component.source {
            case .content: continue
            case .url(let url, let checksum):
                let staged = staging + "/" + component.name
                let sha: String
                do { sha = try URLFetch.download(url, to: staged, progress: progress) } catch let error as BundleError {
                    throw BundleError("\(component.location): \(what) not found: \(component.name): \(error.message)"
                        + (component.kind == .externalBinary ? " (a wrong asset_pattern for this platform? update the manifest)" : ""))
                }
                try check(what, component, checksum, sha)
                try writer.add(path: inside, file: staged, mode: mode)
            case .file(let path, let checksum):
                guard FileManager.default.fileExists(atPath: path) else { throw BundleError("\(component.location): \(what) not found: \(component.name): no file \(path)") }
                try check(what, component, checksum, try BundleIO.sha256(path).sha256)
                try writer.add(path: inside, file: path, mode: mode)
            }
        }
        try writer.add(path: "\(folder)/\(playbookName)", bytes: Array(playbookText.utf8))
        let binaryPath = binary ?? BundleCollector.runningBinary()
        guard FileManager.default.isExecutableFile(atPath: binaryPath) else { throw BundleError("\(binaryPath): not an executable provision binary") }
        try writer.add(path: "bin/provision", file: binaryPath, mode: 0o755)
        try writer.add(path: OfflineBundle.contentsFile, bytes: [])
        try writer.add(path: "install.sh", bytes: Array(InstallScript.text(playbook: "\(folder)/\(playbookName)", arguments: [], extraVars: ValueDict()).utf8), mode: 0o755)
        return try writer.write(to: output)
    }

    func check(_ what: String, _ component: Component, _ checksum: String?, _ sha: String) throws {
        guard let checksum, checksum.dropFirst(7).lowercased() != sha else { return }
        throw BundleError("\(component.location): \(what) checksum mismatch: \(component.name): the manifest says \(checksum), the download is sha256:\(sha) (a corrupted download? re-download, or update the checksum)")
    }
}
