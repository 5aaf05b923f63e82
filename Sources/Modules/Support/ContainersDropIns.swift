import Provisioner

/// Drop-in folders of containers-registries.conf.d(5) and containers.conf(5): files podman reads
/// after the main file, in file-name order, each overriding what it sets.
enum ContainersDropIns {
    /// Per `*.conf` file of `directories`, in order, `FILE <bytes> <path>` and a line break, then its bytes.
    static func probe(_ directories: [String]) -> [String] {
        ["/bin/sh", "-c", """
            LC_ALL=C; export LC_ALL
            for d; do
              for f in "$d"/*.conf; do
                [ -f "$f" ] || continue
                n=$(wc -c < "$f") || exit 3
                printf 'FILE %s %s\\n' $n "$f"
                cat -- "$f" || exit 3
              done
            done
            """, "sh"] + directories
    }

    struct DropIn {
        var path: String
        var table: TOMLTable
    }

    /// The drop-ins in the order the probe listed them; a `Refusal` when they cannot be read.
    static func read(_ output: CommandOutput?, _ directories: [String]) throws -> [DropIn] {
        let what = directories.joined(separator: ", ")
        guard let output, output.status == 0 else {
            let why = output.map { $0.stderr.trimming("\n") } ?? "no answer"
            throw ContainersConfigFile.Refusal("cannot read the drop-ins in \(what): \(why)")
        }
        let unexpected = ContainersConfigFile.Refusal("unexpected answer listing \(what): \(output.stdout.prefix(200))")
        var bytes = Array(output.stdout.utf8)[...]
        var dropIns: [DropIn] = []
        while !bytes.isEmpty {
            guard let end = bytes.firstIndex(of: 0x0A) else { throw unexpected }
            let fields = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self).split(separator: " ", maxSplits: 2).map(String.init)
            guard fields.count == 3, fields[0] == "FILE", let count = Int(fields[1]),
                  bytes.distance(from: end, to: bytes.endIndex) > count else { throw unexpected }
            let start = bytes.index(after: end), stop = bytes.index(start, offsetBy: count)
            do {
                dropIns.append(DropIn(path: fields[2], table: try TOMLEditor(bytes: Array(bytes[start..<stop]), file: fields[2]).document.root))
            } catch {
                throw ContainersConfigFile.Refusal("\(error); podman cannot read this drop-in either: fix or remove it")
            }
            bytes = bytes[stop...]
        }
        return dropIns
    }
}

/// registries.conf's drop-ins. `registries_conf` needs them twice: a value a drop-in
/// overrides would not take effect, and a user's ~/.config/containers/registries.conf
/// replaces the system file and these drop-ins for that user (Debian's and Fedora's
/// short-name aliases live in one), so a new user file starts from both.
enum RegistriesDropIns {
    static let directory = "/etc/containers/registries.conf.d"
    static let probe = ContainersDropIns.probe([directory])

    static func read(_ output: CommandOutput?) throws -> [ContainersDropIns.DropIn] { try ContainersDropIns.read(output, [directory]) }

    /// Folds a drop-in into `editor` as containers/image merges it: a key at the top replaces,
    /// `[aliases]` merge by name, a `[[registry]]` replaces the entry with the same prefix (or
    /// location, without one) or is appended.
    static func fold(_ dropIn: ContainersDropIns.DropIn, into editor: inout TOMLEditor) throws {
        for (key, value) in dropIn.table.entries {
            switch key {
            case "registry":
                for entry in value.array?.compactMap(\.table) ?? [] { try replace(entry, in: &editor) }
            case "aliases":
                for (name, target) in value.table?.entries ?? [] { _ = try editor.set(name, to: target, in: ["aliases"]) }
            case "registries":
                throw ContainersConfigFile.Refusal("\(dropIn.path) is in the v1 format ([registries.search] …), which podman "
                    + "refuses beside the v2 keys of registries.conf; convert it by hand or remove it")
            default:
                _ = try editor.set(key, to: value)
            }
        }
    }

    /// containers/image's key for a `[[registry]]` entry.
    static func key(_ entry: TOMLTable) -> String? { entry["prefix"]?.string ?? entry["location"]?.string }

    private static func replace(_ entry: TOMLTable, in editor: inout TOMLEditor) throws {
        let entries = editor.elements(of: ["registry"])
        guard let index = entries.firstIndex(where: { key($0) == key(entry) }) else {
            _ = try editor.appendTable(entry, to: ["registry"])
            return
        }
        let address = TOMLTableAddress.element(index, of: ["registry"])
        func tables(_ value: TOMLValue) -> [TOMLTable]? {
            guard let items = value.array, !items.isEmpty else { return nil }
            let tables = items.compactMap(\.table)
            return tables.count == items.count ? tables : nil
        }
        for (old, value) in entries[index].entries where entry[old] == nil {
            if tables(value) != nil { _ = try editor.setTables(old, to: [], in: address) } else { try editor.remove(old, from: address) }
        }
        for (name, value) in entry.entries {
            if let list = tables(value) { _ = try editor.setTables(name, to: list, in: address) } else { _ = try editor.set(name, to: value, in: address) }
        }
    }
}
