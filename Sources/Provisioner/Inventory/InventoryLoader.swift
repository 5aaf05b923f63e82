import Foundation

extension Inventory {
    /// Reads inventory sources in order, as `-i` gives them: a file (YAML by `.yml`,
    /// `.yaml`, `.json`; INI by `.ini`; otherwise YAML when it reads as a YAML
    /// inventory, else INI), a directory (every inventory file in it, recursively, in
    /// name order), or a comma-separated host list such as `localhost,`. Then the
    /// `group_vars/`/`host_vars/` beside each source and, when given, beside the playbook.
    public init(sources: [String], playbookDirectory: String? = nil) throws {
        self.init()
        var bases: [String] = []
        for source in sources {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) {
                if isDirectory.boolValue {
                    try InventoryLoader.readDirectory(source, into: &self)
                    bases.append(source)
                } else {
                    try InventoryLoader.readFile(source, into: &self)
                    bases.append(InventoryLoader.directory(of: source))
                }
            } else if source.contains(",") {
                try InventoryLoader.readHostList(source, into: &self)
            } else {
                throw ParseError("no such inventory file or directory", at: SourceLocation(file: source, line: 1, column: 1))
            }
        }
        finish()
        var seen: Set<String> = []
        let hostEntities = hostNames + Inventory.localhostNames.sorted().filter { hostTable[$0] == nil }
        for base in bases where seen.insert(InventoryLoader.absolute(base)).inserted {
            inventoryVars.append(try VarsDirectory.read(base: base, groups: groupNames, hosts: hostEntities, warnings: &warnings))
        }
        if let playbookDirectory {
            playbookVars = [try VarsDirectory.read(base: playbookDirectory, groups: groupNames, hosts: hostEntities, warnings: &warnings)]
        }
    }

    /// One inventory source held in memory, named `file` for its format and its errors.
    /// No `group_vars/` or `host_vars/` are read.
    public init(text: String, file: String) throws {
        self.init()
        try InventoryLoader.read(Array(text.utf8), file: file, into: &self)
        finish()
    }
}

enum InventoryLoader {
    /// Ansible's INVENTORY_IGNORE_EXTS: files a directory source skips.
    static let ignoredSuffixes = [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry"]
    static let ignoredNames: Set<String> = ["host_vars", "group_vars", "vars_plugins"]

    static func contents(of path: String) throws -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
            throw ParseError("cannot read this file: \(reason)", at: SourceLocation(file: path, line: 1, column: 1))
        }
    }

    static func readFile(_ path: String, into inventory: inout Inventory) throws {
        try read(try contents(of: path), file: path, into: &inventory)
        inventory.sourceFiles.append(path)
    }

    static func readDirectory(_ path: String, into inventory: inout Inventory) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw ParseError("cannot list this directory: \(error.localizedDescription)", at: SourceLocation(file: path, line: 1, column: 1))
        }
        for name in names.sorted(by: { $0.precedesInCodePoints($1) }) {
            if name.hasPrefix(".") || ignoredNames.contains(name) || ignoredSuffixes.contains(where: { name.hasSuffix($0) }) { continue }
            let full = VarsDirectory.join(path, name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                try readDirectory(full, into: &inventory)
            } else {
                try readFile(full, into: &inventory)
            }
        }
    }

    /// `host1,host2:2222,` — Ansible's host_list source: ungrouped hosts, no ranges.
    static func readHostList(_ list: String, into inventory: inout Inventory) throws {
        var column = 1
        for piece in list.split(separator: ",", omittingEmptySubsequences: false) {
            defer { column += piece.count + 1 }
            let entry = piece.pythonStripped()
            guard !entry.isEmpty else { continue }
            let (name, port) = HostRange.splitPort(entry)
            let at = SourceLocation(file: list, line: 1, column: column)
            if inventory.host(named: name) == nil {
                inventory.addHost(name, to: "ungrouped", port: port, at: at)
                inventory.hostSource[name] = nil   // no file to name in inventory_file
            }
        }
    }

    /// Picks the reader by extension, or for other names tries YAML then INI as Ansible's
    /// plugin chain does, reporting the error of the format the text looks like.
    static func read(_ bytes: [UInt8], file: String, into inventory: inout Inventory) throws {
        switch VarsDirectory.pathExtension((file as NSString).lastPathComponent).lowercased() {
        case ".yml", ".yaml", ".json":
            try YAMLInventoryReader.read(bytes, file: file, into: &inventory)
        case ".ini":
            try INIInventoryReader.read(bytes, file: file, into: &inventory)
        default:
            var attempt = inventory
            do {
                try YAMLInventoryReader.read(bytes, file: file, into: &attempt)
                inventory = attempt
            } catch let yamlError {
                attempt = inventory
                do {
                    try INIInventoryReader.read(bytes, file: file, into: &attempt)
                    inventory = attempt
                } catch let iniError {
                    throw looksLikeYAML(bytes) ? yamlError : iniError
                }
            }
        }
    }

    /// The first meaningful line starts a YAML document or mapping (`---`, `{`, `key:`).
    static func looksLikeYAML(_ bytes: [UInt8]) -> Bool {
        for raw in INIInventoryReader.lines(of: bytes) {
            let line = String(decoding: raw, as: UTF8.self).pythonStripped()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("---") || line.hasPrefix("{") || line.hasPrefix("%") { return true }
            if line.hasPrefix("[") { return false }
            guard let colon = line.firstIndex(of: ":") else { return false }
            let after = line.index(after: colon)
            return !line[..<colon].contains("=") && !line[..<colon].contains(" ") && (after == line.endIndex || line[after] == " ")
        }
        return false
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
