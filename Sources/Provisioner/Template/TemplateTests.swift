import Foundation

/// A Jinja test (`x is defined`, `x is match('re')`): the subject (possibly undefined), arguments, evaluator.
typealias TemplateTest = @Sendable (TemplateOperand, TemplateArguments, TemplateEvaluator) throws -> Bool

/// Jinja2's builtin tests and Ansible's core ones.
enum TemplateTests {
    static func named(_ name: String) -> TemplateTest? {
        if let test = table[name] { return test }
        for prefix in ["ansible.builtin.", "ansible.legacy."] where name.hasPrefix(prefix) {
            return table[String(name.dropFirst(prefix.count))]
        }
        return nil
    }

    static let names: [String] = table.keys.sorted()

    static func strict(_ body: @escaping @Sendable (Value, TemplateArguments) throws -> Bool) -> TemplateTest {
        { subject, arguments, _ in try body(try subject.get(), arguments) }
    }

    static func argument(_ arguments: TemplateArguments, _ index: Int = 0, _ name: String = "other") throws -> Value {
        guard let operand = arguments.operand(index, name) else { throw arguments.error("missing argument '\(name)'") }
        return try operand.get()
    }

    static func compare(_ op: TemplateCompareOperator) -> TemplateTest {
        strict { value, arguments in try TemplateOperators.compare(op, value, try argument(arguments), at: nil) }
    }

    /// Ansible's task-result tests (`result is changed`) need a dict.
    static func result(_ body: @escaping @Sendable (ValueDict) -> Bool) -> TemplateTest {
        { subject, arguments, _ in
            guard case .dict(let d) = try subject.get() else { throw arguments.error("expects a dictionary") }
            return body(d)
        }
    }

    static func regex(anchored: Bool) -> TemplateTest {
        strict { value, arguments in
            try arguments.check(["pattern", "ignorecase", "multiline", "match_type"])
            let pattern = try arguments.value(0, "pattern")?.pythonText ?? ""
            let flags = PythonRegex.Flags(ignoreCase: try arguments.bool(1, "ignorecase"), multiline: try arguments.bool(2, "multiline"))
            let matchType = try arguments.string(3, "match_type", default: anchored ? "match" : "search")
            return try PythonRegex.compile(pattern, flags).firstMatch(in: value.pythonText, anchored: matchType == "match") != nil
        }
    }

    static func path(_ check: @escaping @Sendable (String) -> Bool) -> TemplateTest {
        strict { value, _ in check(PythonPath.expandUser(value.pythonText)) }
    }

    static func fileType(_ path: String) -> FileAttributeType? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
    }

    static func isChanged(_ d: ValueDict) -> Bool {
        if let changed = d["changed"] { return changed.isTruthy }
        if case .list(let results)? = d["results"] {
            return results.contains { $0["changed"]?.isTruthy == true }
        }
        return false
    }

    static let table: [String: TemplateTest] = [
        "defined": { subject, _, _ in !subject.isUndefined },
        "undefined": { subject, _, _ in subject.isUndefined },
        "none": strict { value, _ in value.isNull },
        "boolean": strict { value, _ in if case .bool = value { return true } else { return false } },
        "true": strict { value, _ in value == .bool(true) },
        "false": strict { value, _ in value == .bool(false) },
        "integer": strict { value, _ in if case .int = value { return true } else { return false } },
        "float": strict { value, _ in if case .float = value { return true } else { return false } },
        "number": strict { value, _ in value.pythonNumber != nil },
        "string": strict { value, _ in value.string != nil },
        "mapping": strict { value, _ in value.dict != nil },
        "sequence": strict { value, _ in value.string != nil || value.list != nil || value.dict != nil },
        "iterable": strict { value, _ in value.string != nil || value.list != nil || value.dict != nil },
        "callable": strict { _, _ in false },
        "escaped": strict { _, _ in false },
        "lower": strict { value, _ in
            let s = value.pythonText
            return s.unicodeScalars.contains { $0.properties.isCased } && s.lowercased() == s
        },
        "upper": strict { value, _ in
            let s = value.pythonText
            return s.unicodeScalars.contains { $0.properties.isCased } && s.uppercased() == s
        },
        "even": strict { value, arguments in
            guard case .int(let i)? = value.pythonNumber else { throw arguments.error("expects an integer, got \(value.typeName)") }
            return i % 2 == 0
        },
        "odd": strict { value, arguments in
            guard case .int(let i)? = value.pythonNumber else { throw arguments.error("expects an integer, got \(value.typeName)") }
            return i % 2 != 0
        },
        "divisibleby": strict { value, arguments in
            let remainder = try TemplateOperators.apply(.modulo, value, try argument(arguments, 0, "num"), at: nil)
            return remainder.pythonEquals(.int(0))
        },
        "sameas": strict { value, arguments in value == (try argument(arguments)) },
        "eq": compare(.equal), "equalto": compare(.equal), "==": compare(.equal),
        "ne": compare(.notEqual), "!=": compare(.notEqual),
        "lt": compare(.less), "lessthan": compare(.less), "<": compare(.less),
        "le": compare(.lessOrEqual), "<=": compare(.lessOrEqual),
        "gt": compare(.greater), "greaterthan": compare(.greater), ">": compare(.greater),
        "ge": compare(.greaterOrEqual), ">=": compare(.greaterOrEqual),
        "in": strict { value, arguments in try TemplateOperators.contains(try argument(arguments, 0, "seq"), value, at: nil) },
        "contains": strict { value, arguments in try TemplateOperators.contains(value, try argument(arguments, 0, "value"), at: nil) },
        "filter": strict { value, _ in TemplateFilters.named(value.pythonText) != nil },
        "test": strict { value, _ in TemplateTests.named(value.pythonText) != nil },
        // Ansible
        "match": regex(anchored: true),
        "search": regex(anchored: false),
        "regex": regex(anchored: false),
        "version": versionTest,
        "version_compare": versionTest,
        "subset": strict { value, arguments in
            let other = try TemplateFilters.items(try argument(arguments, 0, "b"), arguments)
            return try TemplateFilters.items(value, arguments).allSatisfy { TemplateFilters.member($0, of: other) }
        },
        "superset": strict { value, arguments in
            let mine = try TemplateFilters.items(value, arguments)
            return try TemplateFilters.items(try argument(arguments, 0, "b"), arguments).allSatisfy { TemplateFilters.member($0, of: mine) }
        },
        "any": strict { value, arguments in try TemplateFilters.items(value, arguments).contains { $0.isTruthy } },
        "all": strict { value, arguments in try TemplateFilters.items(value, arguments).allSatisfy { $0.isTruthy } },
        "truthy": strict { value, arguments in
            try arguments.bool(0, "convert_bool") ? booleanWord(value) ?? value.isTruthy : value.isTruthy
        },
        "falsy": strict { value, arguments in
            !(try arguments.bool(0, "convert_bool") ? booleanWord(value) ?? value.isTruthy : value.isTruthy)
        },
        "changed": result { isChanged($0) }, "change": result { isChanged($0) },
        "failed": result { $0["failed"]?.isTruthy ?? false }, "failure": result { $0["failed"]?.isTruthy ?? false },
        "succeeded": result { !($0["failed"]?.isTruthy ?? false) },
        "success": result { !($0["failed"]?.isTruthy ?? false) },
        "successful": result { !($0["failed"]?.isTruthy ?? false) },
        "skipped": result { $0["skipped"]?.isTruthy ?? false }, "skip": result { $0["skipped"]?.isTruthy ?? false },
        "reachable": result { !($0["unreachable"]?.isTruthy ?? false) },
        "unreachable": result { $0["unreachable"]?.isTruthy ?? false },
        "finished": result { $0["finished"]?.isTruthy ?? true },
        "started": result { $0["started"]?.isTruthy ?? true },
        "timedout": result { ($0["timedout"]?.isTruthy ?? false) && ($0["timedout"]?["period"]?.isTruthy ?? false) },
        "abs": path { $0.hasPrefix("/") }, "is_abs": path { $0.hasPrefix("/") },
        "exists": path { FileManager.default.fileExists(atPath: $0) },
        "file": path { fileType(($0 as NSString).resolvingSymlinksInPath) == .typeRegular },
        "is_file": path { fileType(($0 as NSString).resolvingSymlinksInPath) == .typeRegular },
        "directory": path { fileType(($0 as NSString).resolvingSymlinksInPath) == .typeDirectory },
        "is_dir": path { fileType(($0 as NSString).resolvingSymlinksInPath) == .typeDirectory },
        "link": path { fileType($0) == .typeSymbolicLink }, "is_link": path { fileType($0) == .typeSymbolicLink },
        "nan": strict { value, _ in value.pythonNumber?.double.isNaN ?? false },
        "isnan": strict { value, _ in value.pythonNumber?.double.isNaN ?? false },
        "vault_encrypted": strict { _, _ in false },
    ]

    /// Ansible's strict `boolean()`: nil for values that are not one of its words or numbers.
    static func booleanWord(_ value: Value) -> Bool? {
        switch value {
        case .bool(let b): return b
        case .int, .float:
            if value.pythonEquals(.int(1)) { return true }
            return value.pythonEquals(.int(0)) ? false : nil
        case .string(let s):
            let word = PythonString.strip(s).lowercased()
            if ["y", "yes", "on", "1", "true", "t"].contains(word) { return true }
            return ["n", "no", "off", "0", "false", "f"].contains(word) ? false : nil
        default: return nil
        }
    }

    static let versionTest: TemplateTest = strict { value, arguments in
        try arguments.check(["version", "operator", "strict", "version_type"])
        let operators = ["==": "eq", "=": "eq", "eq": "eq", "<": "lt", "lt": "lt", "<=": "le", "le": "le",
                         ">": "gt", "gt": "gt", ">=": "ge", "ge": "ge", "!=": "ne", "<>": "ne", "ne": "ne"]
        guard value.isTruthy else { throw arguments.error("Input version value cannot be empty") }
        guard let other = try arguments.value(0, "version"), other.isTruthy else {
            throw arguments.error("Version parameter to compare against cannot be empty")
        }
        let name = try arguments.string(1, "operator", default: "eq")
        guard let op = operators[name] else {
            throw arguments.error("Invalid operator type (\(name)). Must be one of " + operators.keys.sorted().map { "'\($0)'" }.joined(separator: ", "))
        }
        let a = LooseVersion(value.pythonText), b = LooseVersion(other.pythonText)
        guard let order = Value.list(a.components).pythonCompare(.list(b.components)) else {
            throw arguments.error("Version comparison failed: '<' not supported between instances of 'int' and 'str'")
        }
        switch op {
        case "eq": return order == .same
        case "ne": return order != .same
        case "lt": return order == .less
        case "le": return order != .greater
        case "gt": return order == .greater
        default: return order != .less
        }
    }
}

/// distutils' LooseVersion: runs of digits (compared as numbers), runs of lower-case
/// letters, and whatever lies between them; dots dropped.
struct LooseVersion {
    var components: [Value] = []

    init(_ text: String) {
        var run = ""
        var kind = 0  // 1 digits, 2 letters, 3 other
        func flush() {
            if !run.isEmpty, run != "." { components.append(kind == 1 ? .int(Int(run) ?? 0) : .string(run)) }
            run = ""
        }
        for c in text.unicodeScalars {
            let k = ("0"..."9").contains(c) ? 1 : ("a"..."z").contains(c) ? 2 : c == "." ? 4 : 3
            if k == 4 {
                flush()
                kind = 0
                continue
            }
            if k != kind { flush() }
            kind = k
            run.unicodeScalars.append(c)
        }
        flush()
    }
}
