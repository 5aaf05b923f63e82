import Provisioner

/// Ansible's `deb822_repository`: /etc/apt/sources.list.d/NAME.sources in deb822 form, with its
/// signing key: a URL (downloaded on the host into /etc/apt/keyrings/NAME.asc or .gpg), a key file
/// on the host, or the key itself inline. Written as python-debian writes it for Ansible (fields in
/// the order of the arguments' names). Like Ansible's, it does not refresh the index.
struct Deb822RepositoryModule: Module {
    static let name = "deb822_repository"
    static let summary = "An apt source in deb822 form (NAME.sources) with its signing key"
    static let boolFields = ["allow_downgrade_to_insecure", "allow_insecure", "allow_weak", "by_hash", "check_date", "check_valid_until",
                             "enabled", "pdiffs", "trusted"]
    static let listFields = ["architectures", "components", "languages", "suites", "targets", "uris"]
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, required: true, doc: "the repository's name (the file is its slug .sources)"),
        ArgumentSpec("types", .list, default: ["deb"], doc: "deb and/or deb-src"),
        ArgumentSpec("signed_by", .string, doc: "the key: a URL, a key file on the host, or the armored key itself"),
        ArgumentSpec("date_max_future", .int, doc: "Date-Max-Future"),
        ArgumentSpec("inrelease_path", .string, doc: "InRelease-Path"),
        ArgumentSpec("mode", .raw, default: "0644", doc: "mode of the .sources file"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"], doc: "present or absent"),
        ArgumentSpec("install_python_debian", .bool, default: false, doc: "accepted: provision needs no python3-debian"),
    ] + boolFields.map { ArgumentSpec($0, .bool, doc: "the source's \($0) field (yes/no)") }
      + listFields.map { ArgumentSpec($0, .list, doc: "the source's \($0) field") }

    static let keyrings = "/etc/apt/keyrings"

    let slug: String
    let fields: [(key: String, value: String)]
    let signedBy: String?
    let present: Bool
    let mode: UInt32

    init(_ arguments: ModuleArguments) throws {
        let name = arguments.string("name") ?? ""
        // Ansible's slug: lower case, spaces and _ as -, anything else but [a-z0-9-] dropped.
        var dashed = "", lastDash = false
        for c in name.lowercased() {
            if c == "_" || c.isWhitespace { if !lastDash { dashed.append("-") }; lastDash = true } else { dashed.append(c); lastDash = false }
        }
        slug = String(dashed.filter { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" })
        present = arguments.string("state") != "absent"
        mode = try arguments.octalMode("mode", default: 0o644)
        signedBy = arguments.string("signed_by")
        for type in arguments.strings("types") ?? [] where type != "deb" && type != "deb-src" {
            throw ModuleError("types must be deb or deb-src, not '\(type)'", argument: "types")
        }
        var fields: [(String, String)] = []
        for spec in Deb822RepositoryModule.arguments.sorted(by: { $0.name < $1.name })
            where !["mode", "state", "install_python_debian", "signed_by"].contains(spec.name) {
            guard let value = arguments[spec.name] else { continue }
            let text: String
            switch spec.kind {
            case .bool: text = arguments.bool(spec.name) ? "yes" : "no"
            case .list: text = (arguments.strings(spec.name) ?? []).joined(separator: " ")
            default: text = value.string ?? value.pythonText
            }
            fields.append((spec.name, text))
        }
        self.fields = fields
        if slug.isEmpty { throw ModuleError("name must hold letters or digits", argument: "name") }
        if present && (arguments["uris"] == nil || arguments["suites"] == nil) {
            throw ModuleError("a present repository needs uris and suites", argument: arguments["uris"] == nil ? "uris" : "suites")
        }
    }

    var sourcesPath: String { "/etc/apt/sources.list.d/\(slug).sources" }
    func keyPath(_ ext: String) -> String { "\(Deb822RepositoryModule.keyrings)/\(slug).\(ext)" }

    enum Key {
        case url(String), file(String), inline(String)
    }

    var key: Key? {
        guard let signedBy else { return nil }
        if let scheme = signedBy.split(separator: ":", maxSplits: 1).first, signedBy.contains("://"),
           scheme.allSatisfy({ $0.isLetter || $0 == "+" }) { return .url(signedBy) }
        if signedBy.hasPrefix("/") && !signedBy.contains("\n") { return .file(signedBy) }
        return .inline(signedBy)
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        var wanted: [Observation] = [.file(path: sourcesPath, content: true), .file(path: keyPath("asc"), content: true),
                                     .file(path: keyPath("gpg"), content: true)]
        guard present else { return wanted }
        wanted.append(.file(path: Deb822RepositoryModule.keyrings, content: false))
        switch key {
        case .url(let url)?: wanted.append(HTTPFetch.get(url))
        case .file(let path)?: wanted.append(.file(path: path, content: false))
        default: break
        }
        return wanted
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        var result: ValueDict = ["dest": .string(sourcesPath)]
        guard present else {
            var changes = RepositoryFile(path: sourcesPath, mode: mode).changes(nil, current: observed.file(sourcesPath), observed: observed)
            for ext in ["asc", "gpg"] {
                changes += RepositoryFile(path: keyPath(ext), mode: 0o644).changes(nil, current: observed.file(keyPath(ext)), observed: observed)
            }
            return Plan(changes: changes, result: result.merging(["repo": .null, "key_filename": .string(keyPath("gpg"))]))
        }
        var changes: [Change] = []
        var signed: String?
        switch key {
        case .url(let url)?:
            switch HTTPFetch.body(observed, url) {
            case .failure(let failure): return .failed("Could not fetch signed_by key: \(failure.message)")
            case .success(let bytes):
                let armored = String(decoding: bytes, as: UTF8.self).contains("-----BEGIN PGP PUBLIC KEY BLOCK-----")
                let path = keyPath(armored ? "asc" : "gpg")
                if observed.file(Deb822RepositoryModule.keyrings) == nil {
                    changes.append(Change("create \(Deb822RepositoryModule.keyrings)", actions: [
                        .makeDirectory(path: Deb822RepositoryModule.keyrings, attributes: FileAttributes(mode: 0o755, owner: "root", group: "root")),
                    ]))
                }
                changes += RepositoryFile(path: path, mode: 0o644).changes(bytes, current: observed.file(path), observed: observed)
                signed = path
                result["key_filename"] = .string(path)
            }
        case .file(let path)?:
            // Not a file on the host after all: Ansible passes the text through.
            signed = path
            result["key_filename"] = observed.file(path) == nil ? .null : .string(path)
        case .inline(let text)?:
            signed = text
            result["key_filename"] = .null
        case nil:
            result["key_filename"] = .null
        }
        var entries = fields
        if let signed { entries.append(("signed_by", signed)); entries.sort { $0.key < $1.key } }
        let text = entries.map { key, value in Deb822RepositoryModule.field(key, value) }.joined()
        changes += RepositoryFile(path: sourcesPath, mode: mode).changes(Array(text.utf8), current: observed.file(sourcesPath), observed: observed)
        result["repo"] = .string(text)
        return Plan(changes: changes, result: result)
    }

    /// A deb822 field as python-debian dumps it: a multi-line value on indented lines ('.' for blank ones).
    static func field(_ key: String, _ value: String) -> String {
        let name: String
        switch key {
        case "name": name = "X-Repolib-Name"
        case "uris": name = "URIs"
        default: name = key.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined(separator: "-")
        }
        guard value.contains("\n") else { return "\(name): \(value)\n" }
        let lines = value.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n", omittingEmptySubsequences: false)
            .map { line -> String in let t = line.trimmingCharacters(in: .whitespaces); return "    " + (t.isEmpty ? "." : t) }
        return "\(name):\n" + lines.joined(separator: "\n") + "\n"
    }
}
