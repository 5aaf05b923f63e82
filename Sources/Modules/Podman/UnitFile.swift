import Foundation
import Provisioner

/// A systemd unit file, the format of quadlet's sources and drop-ins: sections in order, each with its
/// entries in order (a key may repeat). Built from a task's `sections:` mapping or read from text.
struct UnitFile: Equatable, Sendable {
    struct Section: Equatable, Sendable {
        var name: String
        var entries: [(key: String, value: String)]

        static func == (a: Section, b: Section) -> Bool {
            a.name == b.name && a.entries.map(\.key) == b.entries.map(\.key) && a.entries.map(\.value) == b.entries.map(\.value)
        }
    }

    var sections: [Section]

    init(sections: [Section]) { self.sections = sections }

    /// From a mapping of section -> key -> value, as a task writes it. A list repeats the key in order;
    /// a mapping repeats it once per pair as `KEY=name=value` (Environment, Label), quoted when needed.
    /// `argument` names the task argument for errors.
    init(_ mapping: ValueDict, argument: String) throws {
        sections = []
        for (name, body) in mapping {
            guard UnitFile.isName(name) else {
                throw ModuleError("'\(name)' is not a unit file section name (letters, digits and -)", argument: argument)
            }
            guard let entries = body.dict ?? (body.isNull ? ValueDict() : nil) else {
                throw ModuleError("section [\(name)] must be a mapping of keys to values, not \(body.typeName)", argument: argument)
            }
            var section = Section(name: name, entries: [])
            for (key, value) in entries {
                guard UnitFile.isName(key) else {
                    throw ModuleError("'\(key)' in [\(name)] is not a unit file key (letters, digits, - and _)", argument: argument)
                }
                for text in try UnitFile.values(value, key: key, section: name, argument: argument) {
                    section.entries.append((key, text))
                }
            }
            sections.append(section)
        }
    }

    /// Reads unit file text: `[Section]` headers, `Key=Value` lines, `#`/`;` comments, and lines
    /// continued with a trailing backslash.
    init(parsing text: String, name: String) throws {
        sections = []
        var pending = ""
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = pending + String(raw).trimmingCharacters(in: .whitespaces)
            pending = ""
            if line.hasSuffix("\\") {
                line.removeLast()
                pending = line + " "
                continue
            }
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), UnitFile.isName(String(line.dropFirst().dropLast())) else {
                    throw ModuleError("\(name) line \(index + 1): '\(line)' is not a section header")
                }
                sections.append(Section(name: String(line.dropFirst().dropLast()), entries: []))
                continue
            }
            guard let equals = line.firstIndex(of: "="), !sections.isEmpty else {
                throw ModuleError("\(name) line \(index + 1): expected Key=Value inside a [Section], found '\(line)'")
            }
            let key = String(line[..<equals]).trimmingCharacters(in: .whitespaces)
            let value = String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            sections[sections.count - 1].entries.append((key, value))
        }
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy {
            ($0.value < 128 && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "-" || $0 == "_"
        }
    }

    /// The values a key takes from one task value.
    static func values(_ value: Value, key: String, section: String, argument: String) throws -> [String] {
        func one(_ value: Value) throws -> String {
            let text: String
            switch value {
            case .string(let s): text = s
            case .int(let i): text = String(i)
            case .float(let d): text = String(d)
            case .bool(let b): text = b ? "true" : "false"
            default:
                throw ModuleError("\(section).\(key) must be text, a number, a boolean, a list or a mapping, not \(value.typeName)",
                                  argument: argument)
            }
            if text.contains("\n") || text.contains("\r") {
                throw ModuleError("\(section).\(key) holds a line break; unit file values are one line each", argument: argument)
            }
            if text.hasSuffix("\\") {
                throw ModuleError("\(section).\(key) ends with a backslash, which would continue the line", argument: argument)
            }
            return text
        }
        switch value {
        case .list(let items): return try items.map(one)
        case .dict(let pairs):
            return try pairs.map { name, item in UnitFile.quoted("\(name)=\(try one(item))") }
        case .null: return []
        default: return [try one(value)]
        }
    }

    /// systemd's word quoting, for a `name=value` pair holding spaces or quotes.
    static func quoted(_ word: String) -> String {
        guard word.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "'" || $0 == "\\" }) else { return word }
        return "\"" + word.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") + "\""
    }

    /// The file's text, with the header comment that says who writes it.
    var text: String {
        var out = "# Written by provision: edit the task, not this file.\n"
        for (index, section) in sections.enumerated() {
            if index > 0 { out += "\n" }
            out += "[\(section.name)]\n"
            for entry in section.entries { out += "\(entry.key)=\(entry.value)\n" }
        }
        return out
    }

    func values(_ section: String, _ key: String) -> [String] {
        sections.filter { $0.name == section }.flatMap { $0.entries.filter { $0.key == key }.map(\.value) }
    }

    /// The last value of a key (systemd's rule for single-valued keys).
    func value(_ section: String, _ key: String) -> String? { values(section, key).last }

    func has(_ section: String) -> Bool { sections.contains { $0.name == section } }

    /// Adds an empty section when it is missing (a `.volume` with no options still needs `[Volume]`).
    mutating func ensure(_ section: String, at position: Int) {
        guard !has(section) else { return }
        sections.insert(Section(name: section, entries: []), at: min(position, sections.count))
    }
}
