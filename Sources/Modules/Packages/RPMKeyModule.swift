import Foundation
import Provisioner

/// Ansible's `rpm_key`: an OpenPGP key in rpm's database, from a URL (fetched on the host), a
/// key file on the host, or (to remove) its id. The imported keys and the given key's id are
/// read in the observation round trip.
struct RPMKeyModule: Module {
    static let name = "rpm_key"
    static let summary = "A key in rpm's database (rpm --import)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("key", .string, required: true, doc: "URL or host path of the key, or (for absent) its id"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"], doc: "present or absent"),
        ArgumentSpec("fingerprint", .list, doc: "fingerprints the key must have (checked before importing)"),
        ArgumentSpec("validate_certs", .bool, default: true, doc: "for a URL: false accepts any TLS certificate"),
    ]

    let key: String
    let present: Bool
    let fingerprints: [String]
    let validateCerts: Bool

    init(_ arguments: ModuleArguments) throws {
        key = arguments.string("key") ?? ""
        present = arguments.string("state") != "absent"
        fingerprints = (arguments.strings("fingerprint") ?? []).map { $0.replacingOccurrences(of: " ", with: "").uppercased() }
        validateCerts = arguments["validate_certs"].flatMap(ModuleArguments.boolean) ?? true
        if key.isEmpty { throw ModuleError("key must not be empty", argument: "key") }
    }

    var isURL: Bool { key.contains("://") }

    /// A key id (8 or 16 hex digits, 0x allowed), as Ansible's `is_keyid`.
    var keyID: String? {
        var text = key.lowercased()
        if text.hasPrefix("0x") { text.removeFirst(2) }
        guard text.count == 8 || text.count == 16, text.allSatisfy(\.isHexDigit) else { return nil }
        return String(text.suffix(8))
    }

    static let script = HTTPFetch.library + #"""
    key=$1 url=$2 validate=$3
    command -v rpm > /dev/null 2>&1 || { echo norpm; exit 0; }
    export LANG=C LC_ALL=C
    echo @installed; rpm -q gpg-pubkey --qf '%{version}\n' 2> /dev/null | grep -v 'not installed'
    [ -n "$key" ] || exit 0
    command -v gpg > /dev/null 2>&1 || { echo @nogpg; exit 0; }
    f=$key
    if [ "$url" = 1 ]; then
      t=$(mktemp -d "${TMPDIR:-/tmp}/.provision-rpm_key.XXXXXX") || exit 0; trap 'rm -rf "$t"' EXIT
      provision_get "$key" "$validate" "$t/key" 2> /dev/null
      case $? in 0) ;; 2) echo @notool; exit 0 ;; *) echo @fetchfailed; exit 0 ;; esac
      printf '@data '; base64 -w 0 < "$t/key"; echo
      f=$t/key
    fi
    [ -r "$f" ] || { echo @missing; exit 0; }
    echo @key; gpg --no-tty --batch --with-colons --fixed-list-mode --show-keys "$f" 2> /dev/null || echo @unreadable
    exit 0
    """#

    var probe: Observation {
        let file = keyID == nil || present ? key : ""
        return .command(["/bin/sh", "-c", RPMKeyModule.script, "sh", keyID != nil && !present ? "" : file, isURL ? "1" : "0",
                         validateCerts ? "1" : "0"])
    }

    func observations(_ context: ModuleContext) -> [Observation] { [probe] }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let text = observed.command(probe.argv)?.stdout ?? ""
        if text.hasPrefix("norpm") { return .failed("the host has no rpm") }
        let installed = Set((text.components(separatedBy: "@installed\n").dropFirst().first ?? "")
            .split(separator: "\n").prefix { !$0.hasPrefix("@") }.map { $0.lowercased() })
        if text.contains("@nogpg") { return .failed("rpm_key needs gpg on the host to read the key's id: install gnupg") }
        if text.contains("@notool") { return .failed(HTTPFetch.missingTools) }
        if text.contains("@fetchfailed") { return .failed("Failed to download key at \(HTTPFetch.masked(key))") }
        var id = keyID
        var keyFingerprints: [String] = []
        if id == nil || present {
            if text.contains("@missing") {
                return .failed(keyID == nil ? "Not a valid key \(key)" : "key \(key) is not a file or URL to import")
            }
            let listing = text.components(separatedBy: "@key\n").dropFirst().first ?? ""
            for line in listing.split(separator: "\n") {
                let fields = line.split(separator: ":", omittingEmptySubsequences: false)
                if fields.first == "pub", fields.count > 4, id == nil || keyID == nil { id = String(fields[4].suffix(8)).lowercased() }
                if fields.first == "fpr", fields.count > 9 { keyFingerprints.append(String(fields[9]).uppercased()) }
            }
            guard id != nil else { return .failed("Not a public key: \(key)") }
        }
        guard let id else { return .failed("Not a valid key \(key)") }
        let result: ValueDict = ["key": .string(key), "keyid": .string(id)]
        if present {
            for wanted in fingerprints where !keyFingerprints.contains(wanted) {
                return .failed("The specified fingerprint, '\(wanted)', does not match any key fingerprints in '\(key)'. Fingerprints found: \(keyFingerprints)")
            }
            guard !installed.contains(id) else { return Plan(result: result) }
            let command: Command
            if isURL {
                let data = text.split(separator: "\n").first { $0.hasPrefix("@data ") }.map { String($0.dropFirst(6)) } ?? ""
                command = Command(["/bin/sh", "-c", "t=$(mktemp) && cat > \"$t\" && rpm --import \"$t\"; rc=$?; rm -f \"$t\"; exit $rc"],
                                  stdin: [UInt8](Data(base64Encoded: data) ?? Data()))
            } else {
                command = Command(["rpm", "--import", key])
            }
            return Plan(changes: [Change("import key \(id) into rpm's database", actions: [.run(command)])], result: result)
        }
        guard installed.contains(id) else { return Plan(result: result) }
        return Plan(changes: [Change("remove key \(id) from rpm's database",
                                     actions: [.run(Command(["rpm", "--erase", "--allmatches", "gpg-pubkey-\(id)"]))])], result: result)
    }
}
