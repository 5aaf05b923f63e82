import Foundation
import Provisioner

/// Ansible's `apt_key`: an OpenPGP key in apt's keyring through apt-key (deprecated, gone from
/// Debian 13; deb822_repository's signed_by replaces it). The keys apt-key lists, and the id of a
/// key given by file, inline data or URL (fetched on the host), are read in the observation round trip.
struct AptKeyModule: Module {
    static let name = "apt_key"
    static let summary = "A key in apt's keyring (apt-key; prefer deb822_repository's signed_by)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("id", .string, doc: "the key's id (8, 16 or more hex digits); found from the key when left out"),
        ArgumentSpec("url", .string, doc: "URL of the key (fetched on the host)"),
        ArgumentSpec("data", .string, doc: "the key itself"),
        ArgumentSpec("file", .path, doc: "a key file on the host"),
        ArgumentSpec("keyring", .path, doc: "a keyring other than apt's trusted.gpg"),
        ArgumentSpec("keyserver", .string, doc: "keyserver to receive the key from (needs id)"),
        ArgumentSpec("validate_certs", .bool, default: true, doc: "for url: false accepts any TLS certificate"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"], doc: "present or absent"),
    ]

    enum Source: Equatable { case url(String), data(String), file(String), keyserver(String), none }

    let id: String?
    let source: Source
    let keyring: String?
    let present: Bool
    let validateCerts: Bool

    init(_ arguments: ModuleArguments) throws {
        let given = ["data", "file", "keyserver", "url"].filter { arguments[$0] != nil }
        if given.count > 1 { throw ModuleError("parameters are mutually exclusive: data|file|keyserver|url", argument: given[1]) }
        if let url = arguments.string("url") { source = .url(url) }
        else if let data = arguments.string("data") { source = .data(data) }
        else if let file = arguments.string("file") { source = .file(file) }
        else if let server = arguments.string("keyserver") { source = .keyserver(server) }
        else { source = .none }
        keyring = arguments.string("keyring")
        present = arguments.string("state") != "absent"
        validateCerts = arguments["validate_certs"].flatMap(ModuleArguments.boolean) ?? true
        id = try arguments.string("id").map { try AptKeyModule.parse($0).full }
        if id == nil, case .keyserver = source { throw ModuleError("Missing key_id, required with keyserver.", argument: "keyserver") }
        if id == nil && source == .none { throw ModuleError("one of id, url, data, file is required", argument: "id") }
    }

    /// Ansible's `parse_key_id`: (last 8, last 16, all) of the upper-cased hex id.
    static func parse(_ text: String) throws -> (short: String, fingerprint: String, full: String) {
        var id = text.uppercased()
        if id.hasPrefix("0X") { id.removeFirst(2) }
        guard !id.isEmpty, id.allSatisfy(\.isHexDigit), id.count == 8 || id.count >= 16 else {
            throw ModuleError("key_id must be 8, 16, or 16+ hexadecimal characters in length", argument: "id")
        }
        return (String(id.suffix(8)), String(id.suffix(16)), id)
    }

    /// Ansible's `parse_output_for_keys`: ids of pub and sub lines (long listing or colons), expired ones left out.
    static func keys(_ output: String) -> [String] {
        output.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("pub") || line.hasPrefix("sub"), !line.contains("expired") else { return nil }
            let tokens = line.split(separator: " ")
            if tokens.count > 1, let slash = tokens[1].firstIndex(of: "/") { return String(tokens[1][tokens[1].index(after: slash)...]) }
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            return fields.count > 4 ? String(fields[4]) : nil
        }
    }

    static let script = HTTPFetch.library + #"""
    keyring=$1 kind=$2 arg=$3 validate=$4
    command -v apt-key > /dev/null 2>&1 || { echo noaptkey; exit 0; }
    command -v gpg > /dev/null 2>&1 || { echo nogpg; exit 0; }
    export LANG=C LC_ALL=C
    echo @keys
    if [ -n "$keyring" ]; then apt-key --keyring "$keyring" adv --list-public-keys --keyid-format=long 2> /dev/null
    else apt-key adv --list-public-keys --keyid-format=long 2> /dev/null; fi
    printf '@rc %s\n' "$?"
    case $kind in
    file) echo @key; gpg --with-colons "$arg" 2> /dev/null || echo @unreadable ;;
    data) echo @key; printf '%s' "$arg" | gpg --with-colons 2> /dev/null || echo @unreadable ;;
    url)
      t=$(mktemp -d "${TMPDIR:-/tmp}/.provision-apt_key.XXXXXX") || exit 0
      provision_get "$arg" "$validate" "$t/key" 2> /dev/null
      case $? in
        0) printf '@data '; base64 -w 0 < "$t/key"; echo
           echo @key; gpg --with-colons "$t/key" 2> /dev/null || echo @unreadable ;;
        2) echo @notool ;;
        *) echo @fetchfailed ;;
      esac
      rm -rf "$t" ;;
    esac
    exit 0
    """#

    var probe: Observation {
        let (kind, arg): (String, String)
        switch source {
        case .file(let path): (kind, arg) = ("file", path)
        case .data(let data): (kind, arg) = id == nil || present ? ("data", data) : ("", "")
        case .url(let url): (kind, arg) = ("url", url)
        default: (kind, arg) = ("", "")
        }
        // With an id the key is needed only to add it, and only data that is fetched must be read now.
        let needed: String = id == nil || { if case .url = source { return present } else { return false } }() ? kind : ""
        return .command(["/bin/sh", "-c", AptKeyModule.script, "sh", keyring ?? "", needed, needed.isEmpty ? "" : arg, validateCerts ? "1" : "0"])
    }

    func observations(_ context: ModuleContext) -> [Observation] { [probe] }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let text = observed.command(probe.argv)?.stdout ?? ""
        // As Ansible: without apt-key or gpg the task ends, unchanged, with the reason.
        if text.hasPrefix("noaptkey") {
            return Plan(result: ["msg": "Failed to find required executable \"apt-key\". Apt-key has been deprecated. See the deb822_repository as an alternative."])
        }
        if text.hasPrefix("nogpg") { return Plan(result: ["msg": "Failed to find required executable \"gpg\""]) }
        let sections = text.components(separatedBy: "\n@key\n")
        let listing = sections[0]
        if !listing.contains("@rc 0") { return .failed("Unable to list public keys") }
        if listing.contains("@notool") || text.contains("@notool") { return .failed(HTTPFetch.missingTools) }
        if text.contains("@fetchfailed"), case .url(let url) = source { return .failed("Failed to download key at \(HTTPFetch.masked(url))") }
        var keyID = id
        if keyID == nil {
            guard sections.count > 1, !sections[1].hasPrefix("@unreadable"), let first = AptKeyModule.keys(sections[1]).first else {
                return .failed("Unable to extract key from '\(source == .none ? "" : { if case .file(let p) = source { return p } else { return "inline data" } }())'")
            }
            keyID = first
        }
        guard let keyID, let parsed = try? AptKeyModule.parse(keyID) else { return .failed("Invalid key_id") }
        let short = parsed.full.count == 8
        let known = AptKeyModule.keys(listing).map { short ? String($0.suffix(8)) : $0 }
        let wanted = short ? parsed.short : parsed.fingerprint
        var result: ValueDict = ["id": .string(keyID), "short_id": .string(parsed.short), "fp": .string(parsed.fingerprint),
                                 "key_id": .string(parsed.full), "before": .list(known.map(Value.string))]
        let keyring = self.keyring.map { ["--keyring", $0] } ?? []
        if present {
            guard !known.contains(wanted) else { return Plan(result: result) }
            var command: Command
            switch source {
            case .file(let path): command = Command(["apt-key"] + keyring + ["add", path])
            case .data(let data): command = Command(["apt-key"] + keyring + ["add", "-"], stdin: Array(data.utf8))
            case .url:
                let data = text.split(separator: "\n").first { $0.hasPrefix("@data ") }.map { String($0.dropFirst(6)) } ?? ""
                command = Command(["apt-key"] + keyring + ["add", "-"], stdin: [UInt8](Data(base64Encoded: data) ?? Data()))
            case .keyserver(let server): command = Command(["apt-key"] + keyring + ["adv", "--no-tty", "--keyserver", server, "--recv", parsed.full])
            case .none: return .failed("key \(keyID) is not in the keyring, and no url, data, file or keyserver says where to get it")
            }
            command.environment = ["LANG": "C", "LC_ALL": "C"]
            result["after"] = .list((known + [wanted]).map(Value.string))
            return Plan(changes: [Change("add key \(keyID) to \(self.keyring ?? "apt's keyring")", actions: [.run(command)])], result: result)
        }
        guard known.contains(parsed.fingerprint) || known.contains(wanted) else { return Plan(result: result) }
        return Plan(changes: [Change("remove key \(keyID) from \(self.keyring ?? "apt's keyring")",
                                     actions: [.run(Command(["apt-key"] + keyring + ["del", parsed.short]))])],
                    result: result)
    }
}
