/// Filters over lists and dicts.
extension TemplateFilters {
    /// What Python iterates: a list's items, a dict's keys, a string's characters.
    static func items(_ value: Value, _ arguments: TemplateArguments) throws -> [Value] {
        switch value {
        case .list(let l): return l
        case .dict(let d): return d.keys.map { .string($0) }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        default: throw arguments.error("'\(value.typeName)' object is not iterable")
        }
    }

    /// Jinja2's attribute getter: `"a.b.0"` walks dict keys and list indices.
    static func attributeGetter(_ attribute: Value, evaluator: TemplateEvaluator) -> (Value) -> TemplateOperand {
        let parts: [Value]
        switch attribute {
        case .string(let s): parts = s.split(separator: ".", omittingEmptySubsequences: false).map { part in
            part.allSatisfy(\.isASCII) && !part.isEmpty && part.allSatisfy(\.isNumber) ? .int(Int(part) ?? 0) : .string(String(part))
        }
        default: parts = [attribute]
        }
        return { item in
            var current = TemplateOperand.value(item)
            for part in parts {
                guard case .value(let v) = current else { return current }
                current = evaluator.item(part, of: v, at: 0)
            }
            if case .undefined(var u) = current { u.offset = nil; return .undefined(u) }
            return current
        }
    }

    static func ignoringCase(_ value: Value, _ caseSensitive: Bool) -> Value {
        if !caseSensitive, case .string(let s) = value { return .string(s.lowercased()) }
        return value
    }

    /// A stable sort with Python's ordering; mixed types raise as in Python.
    static func sorted(_ items: [Value], key: (Value) throws -> Value, reverse: Bool) throws -> [Value] {
        let keyed = try items.enumerated().map { (index: $0.offset, key: try key($0.element), item: $0.element) }
        var failure: TemplateError?
        let ordered = keyed.sorted { a, b in
            guard let order = a.key.pythonCompare(b.key) else {
                if failure == nil {
                    failure = TemplateError("'<' not supported between instances of '\(a.key.typeName)' and '\(b.key.typeName)'")
                }
                return a.index < b.index
            }
            if order == .same { return a.index < b.index }
            return (order == .less) != reverse
        }
        if let failure { throw failure }
        return ordered.map(\.item)
    }

    static func uniqueItems(_ items: [Value]) -> [Value] {
        var seen = Set<PythonKey>()
        return items.filter { seen.insert(PythonKey(value: $0)).inserted }
    }

    static func uniqueItems(_ items: [Value], key: (Value) throws -> Value) rethrows -> [Value] {
        var seen = Set<PythonKey>()
        var out: [Value] = []
        for item in items where seen.insert(PythonKey(value: try key(item))).inserted { out.append(item) }
        return out
    }

    static func list(_ value: Value, _ arguments: TemplateArguments) throws -> [Value] {
        guard case .list(let l) = value else { throw arguments.error("expects a list, got \(value.typeName)") }
        return l
    }

    static func minOrMax(_ isMax: Bool) -> TemplateFilter {
        { input, arguments, evaluator in
            try arguments.check(["case_sensitive", "attribute"])
            let items = try self.items(try input.get(), arguments)
            guard var best = items.first else {
                return .undefined(TemplateUndefined(message: "No aggregated item, sequence was empty.", variable: nil, offset: nil))
            }
            let caseSensitive = try arguments.bool(0, "case_sensitive")
            let getter = try arguments.value(1, "attribute").map { attributeGetter($0, evaluator: evaluator) }
            func key(_ v: Value) throws -> Value { ignoringCase(try getter.map { try $0(v).get() } ?? v, caseSensitive) }
            var bestKey = try key(best)
            for item in items.dropFirst() {
                let k = try key(item)
                guard let order = k.pythonCompare(bestKey) else {
                    throw TemplateError("'\(isMax ? ">" : "<")' not supported between instances of '\(k.typeName)' and '\(bestKey.typeName)'")
                }
                if order == (isMax ? .greater : .less) { best = item; bestKey = k }
            }
            return .value(best)
        }
    }

    /// `select`/`reject` (`attribute` false) and `selectattr`/`rejectattr`.
    static func selection(keep: Bool, attribute: Bool) -> TemplateFilter {
        { input, arguments, evaluator in
            let items = try self.items(try input.get(), arguments)
            var offset = 0
            var getter: ((Value) -> TemplateOperand)?
            if attribute {
                guard let name = try arguments.value(0, "attribute") else { throw arguments.error("Missing parameter for attribute name") }
                getter = attributeGetter(name, evaluator: evaluator)
                offset = 1
            }
            var test: String?
            if offset < arguments.positional.count {
                guard case .string(let t) = try arguments.positional[offset].get() else { throw arguments.error("the test name must be a string") }
                test = t
            }
            let testArguments = arguments.dropping(offset + 1, function: "test '\(test ?? "")'")
            return .value(.list(try items.filter { item in
                let subject = getter?(item) ?? .value(item)
                let passes = try test.map { try evaluator.applyTest($0, to: subject, testArguments, at: 0) } ?? subject.get().isTruthy
                return passes == keep
            }))
        }
    }

    /// Ansible's `merge_hash`: `other` wins; nested dicts merge when `recursive`.
    static func merge(_ base: ValueDict, _ other: ValueDict, recursive: Bool, listMerge: String) -> ValueDict {
        if base.isEmpty { return other }
        if !recursive, listMerge == "replace" { return base.merging(other) }
        var result = base
        for (key, theirs) in other {
            guard let mine = result[key] else { result[key] = theirs; continue }
            switch (mine, theirs) {
            case (.dict(let a), .dict(let b)):
                result[key] = recursive ? .dict(merge(a, b, recursive: recursive, listMerge: listMerge)) : theirs
            case (.list(let a), .list(let b)):
                func without(_ x: [Value], _ y: [Value]) -> [Value] { x.filter { v in !y.contains { $0.pythonEquals(v) } } }
                switch listMerge {
                case "append": result[key] = .list(a + b)
                case "prepend": result[key] = .list(b + a)
                case "append_rp": result[key] = .list(without(a, b) + b)
                case "prepend_rp": result[key] = .list(b + without(a, b))
                case "keep": break
                default: result[key] = theirs
                }
            default:
                result[key] = theirs
            }
        }
        return result
    }

    /// Ansible's `flatten`: nested lists opened `levels` deep, `None`/`'None'`/`'null'` dropped.
    static func flatten(_ items: [Value], levels: Int?, skipNulls: Bool) -> [Value] {
        var out: [Value] = []
        for item in items {
            if skipNulls, item.isNull || item == "None" || item == "null" { continue }
            if case .list(let inner) = item, levels.map({ $0 >= 1 }) ?? true {
                out += flatten(inner, levels: levels.map { $0 - 1 }, skipNulls: skipNulls)
            } else {
                out.append(item)
            }
        }
        return out
    }

    static func setOperation(_ body: @escaping @Sendable ([Value], [Value]) -> [Value]) -> TemplateFilter {
        strict { value, arguments in
            try arguments.check(["b"])
            guard let other = try arguments.value(0, "b") else { throw arguments.error("needs a second list") }
            return .list(body(try items(value, arguments), try items(other, arguments)))
        }
    }

    static func member(_ v: Value, of list: [Value]) -> Bool { list.contains { $0.pythonEquals(v) } }

    static let collections: [String: TemplateFilter] = [
        "length": strict { value, arguments in
            switch value {
            case .string(let s): return .int(PythonString.length(s))
            case .list(let l): return .int(l.count)
            case .dict(let d): return .int(d.count)
            default: throw arguments.error("object of type '\(value.typeName)' has no len()")
            }
        },
        "count": { input, arguments, evaluator in try collections["length"].map { try $0(input, arguments, evaluator) } ?? input },
        "first": { input, arguments, _ in
            guard let first = try items(try input.get(), arguments).first else {
                return .undefined(TemplateUndefined(message: "No first item, sequence was empty.", variable: nil, offset: nil))
            }
            return .value(first)
        },
        "last": { input, arguments, _ in
            guard let last = try items(try input.get(), arguments).last else {
                return .undefined(TemplateUndefined(message: "No last item, sequence was empty.", variable: nil, offset: nil))
            }
            return .value(last)
        },
        "list": strict { value, arguments in .list(try items(value, arguments)) },
        "join": { input, arguments, evaluator in
            try arguments.check(["d", "attribute"])
            var values = try items(try input.get(), arguments)
            if let attribute = try arguments.value(1, "attribute") {
                let getter = attributeGetter(attribute, evaluator: evaluator)
                values = try values.map { try getter($0).get() }
            }
            let separator = try arguments.value(0, "d")?.pythonText ?? ""
            return .value(.string(values.map(\.pythonText).joined(separator: separator)))
        },
        "unique": { input, arguments, evaluator in
            try arguments.check(["case_sensitive", "attribute"])
            let caseSensitive = try arguments.bool(0, "case_sensitive")
            let getter = try arguments.value(1, "attribute").map { attributeGetter($0, evaluator: evaluator) }
            let values = try items(try input.get(), arguments)
            return .value(.list(try uniqueItems(values) { item in
                ignoringCase(try getter.map { try $0(item).get() } ?? item, caseSensitive)
            }))
        },
        "sort": { input, arguments, evaluator in
            try arguments.check(["reverse", "case_sensitive", "attribute"])
            let caseSensitive = try arguments.bool(1, "case_sensitive")
            var getters: [(Value) -> TemplateOperand] = []
            if let attribute = try arguments.value(2, "attribute") {
                let names = attribute.string.map { $0.split(separator: ",").map { Value.string(String($0)) } } ?? [attribute]
                getters = names.map { attributeGetter($0, evaluator: evaluator) }
            }
            let values = try items(try input.get(), arguments)
            return .value(.list(try sorted(values, key: { item in
                if getters.isEmpty { return ignoringCase(item, caseSensitive) }
                let keys = try getters.map { ignoringCase(try $0(item).get(), caseSensitive) }
                return keys.count == 1 ? keys[0] : .list(keys)
            }, reverse: try arguments.bool(0, "reverse"))))
        },
        "reverse": strict { value, arguments in
            if case .string(let s) = value { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .list(try items(value, arguments).reversed())
        },
        "min": minOrMax(false),
        "max": minOrMax(true),
        "sum": { input, arguments, evaluator in
            try arguments.check(["attribute", "start"])
            var values = try items(try input.get(), arguments)
            if let attribute = try arguments.value(0, "attribute") {
                let getter = attributeGetter(attribute, evaluator: evaluator)
                values = try values.map { try getter($0).get() }
            }
            var total = try arguments.value(1, "start") ?? .int(0)
            for v in values { total = try TemplateOperators.apply(.add, total, v, at: 0) }
            return .value(total)
        },
        "combine": strict { value, arguments in
            var recursive = false, listMerge = "replace"
            for (name, operand) in arguments.keywords {
                switch name {
                case "recursive": recursive = try operand.get().isTruthy
                case "list_merge": listMerge = try operand.get().pythonText
                default: throw arguments.error("'recursive' and 'list_merge' are the only valid keyword arguments")
                }
            }
            guard ["replace", "keep", "append", "prepend", "append_rp", "prepend_rp"].contains(listMerge) else {
                throw arguments.error("list_merge must be one of replace, keep, append, prepend, append_rp, prepend_rp")
            }
            let terms = flatten([value] + (try arguments.rest(from: 0)), levels: 1, skipNulls: false)
            var result: ValueDict?
            for term in terms {
                guard case .dict(let d) = term else { throw arguments.error("expects dictionaries, got \(term.typeName)") }
                result = result.map { merge($0, d, recursive: recursive, listMerge: listMerge) } ?? d
            }
            return .dict(result ?? ValueDict())
        },
        "dict2items": strict { value, arguments in
            try arguments.check(["key_name", "value_name"])
            guard case .dict(let d) = value else { throw arguments.error("dict2items requires a dictionary, got \(value.typeName) instead.") }
            let k = try arguments.string(0, "key_name", default: "key"), v = try arguments.string(1, "value_name", default: "value")
            return .list(d.map { .dict(ValueDict([(k, .string($0.key)), (v, $0.value)])) })
        },
        "items2dict": strict { value, arguments in
            try arguments.check(["key_name", "value_name"])
            let k = try arguments.string(0, "key_name", default: "key"), v = try arguments.string(1, "value_name", default: "value")
            var result = ValueDict()
            for item in try list(value, arguments) {
                guard case .dict(let d) = item else { throw arguments.error("items2dict requires a list of dictionaries, got \(item.typeName) in it.") }
                guard let key = d[k], let entry = d[v] else {
                    throw arguments.error("items2dict requires each dictionary in the list to contain the keys '\(k)' and '\(v)', got \(item.pythonText) instead.")
                }
                result[key.pythonText] = entry
            }
            return .dict(result)
        },
        "items": strict { value, arguments in
            guard case .dict(let d) = value else { throw arguments.error("Can only get item pairs from a mapping.") }
            return .list(d.map { .list([.string($0.key), $0.value]) })
        },
        "dictsort": strict { value, arguments in
            try arguments.check(["case_sensitive", "by", "reverse"])
            guard case .dict(let d) = value else { throw arguments.error("expects a dict, got \(value.typeName)") }
            let caseSensitive = try arguments.bool(0, "case_sensitive")
            let byValue = try arguments.string(1, "by", default: "key") == "value"
            let pairs = d.map { Value.list([.string($0.key), $0.value]) }
            return .list(try sorted(pairs, key: { pair in ignoringCase(pair.list?[byValue ? 1 : 0] ?? .null, caseSensitive) },
                                    reverse: try arguments.bool(2, "reverse")))
        },
        "select": selection(keep: true, attribute: false),
        "reject": selection(keep: false, attribute: false),
        "selectattr": selection(keep: true, attribute: true),
        "rejectattr": selection(keep: false, attribute: true),
        "map": { input, arguments, evaluator in
            let values = try items(try input.get(), arguments)
            if arguments.positional.isEmpty, let attribute = arguments.operand(0, "attribute") {
                for (name, _) in arguments.keywords where name != "attribute" && name != "default" {
                    throw arguments.error("Unexpected keyword argument '\(name)'")
                }
                let getter = attributeGetter(try attribute.get(), evaluator: evaluator)
                let fallback = arguments.operand(0, "default")
                return .value(.list(try values.map { item in
                    let v = getter(item)
                    if v.isUndefined, let fallback { return try fallback.get() }
                    return try v.get()
                }))
            }
            guard let first = arguments.positional.first, case .string(let filter) = try first.get() else {
                throw arguments.error("map requires a filter argument")
            }
            let rest = arguments.dropping(1, function: "filter '\(filter)'")
            return .value(.list(try values.map { try evaluator.applyFilter(filter, to: .value($0), rest, at: 0).get() }))
        },
        "flatten": strict { value, arguments in
            try arguments.check(["levels", "skip_nulls"])
            return .list(flatten(try items(value, arguments), levels: try arguments.int(0, "levels"),
                                 skipNulls: try arguments.bool(1, "skip_nulls", default: true)))
        },
        "difference": setOperation { a, b in uniqueItems(a.filter { !member($0, of: b) }) },
        "intersect": setOperation { a, b in uniqueItems(a.filter { member($0, of: b) }) },
        "union": setOperation { a, b in uniqueItems(a + b) },
        "symmetric_difference": setOperation { a, b in
            uniqueItems(a.filter { !member($0, of: b) } + b.filter { !member($0, of: a) })
        },
        "zip": strict { value, arguments in
            let lists = try [value] + arguments.rest(from: 0)
            let columns = try lists.map { try items($0, arguments) }
            let count = columns.map(\.count).min() ?? 0
            return .list((0..<count).map { i in .list(columns.map { $0[i] }) })
        },
        "zip_longest": strict { value, arguments in
            let fill = try arguments.keywords.first { $0.name == "fillvalue" }?.value.get() ?? .null
            let columns = try ([value] + arguments.rest(from: 0)).map { try items($0, arguments) }
            let count = columns.map(\.count).max() ?? 0
            return .list((0..<count).map { i in .list(columns.map { i < $0.count ? $0[i] : fill }) })
        },
        "subelements": strict { value, arguments in
            try arguments.check(["subelements", "skip_missing"])
            let elements: [Value]
            switch value {
            case .dict(let d): elements = d.map(\.value)
            case .list(let l): elements = l
            default: throw arguments.error("obj must be a list of dicts or a nested dict")
            }
            let path: [String]
            switch try arguments.value(0, "subelements") {
            case .string(let s)?: path = s.split(separator: ".").map(String.init)
            case .list(let l)?: path = l.map(\.pythonText)
            default: throw arguments.error("subelements must be a list or a string")
            }
            let skipMissing = try arguments.bool(1, "skip_missing")
            var results: [Value] = []
            for element in elements {
                var current = element
                var missing = false
                for key in path {
                    guard case .dict(let d) = current else { throw arguments.error("the key \(key) should point to a dictionary, got '\(current.pythonText)'") }
                    guard let next = d[key] else {
                        if skipMissing { missing = true; break }
                        throw arguments.error("could not find '\(key)' key in iterated item \(current.pythonRepr)")
                    }
                    current = next
                }
                if missing { continue }
                guard case .list(let subs) = current else { throw arguments.error("the key '\(path.joined(separator: "."))' should point to a list, got \(current.pythonRepr)") }
                results += subs.map { .list([element, $0]) }
            }
            return .list(results)
        },
        "extract": { input, arguments, evaluator in
            try arguments.check(["container", "morekeys"])
            guard let container = try arguments.value(0, "container") else { throw arguments.error("needs a container") }
            var keys = [try input.get()]
            switch try arguments.value(1, "morekeys") {
            case .list(let more)?: keys += more
            case let more?: keys.append(more)
            case nil: break
            }
            var current = TemplateOperand.value(container)
            for key in keys {
                guard case .value(let v) = current else { break }
                current = evaluator.item(key, of: v, at: 0)
            }
            return current
        },
        "batch": strict { value, arguments in
            try arguments.check(["linecount", "fill_with"])
            let size = try arguments.int(0, "linecount", default: 1)
            guard size > 0 else { throw arguments.error("linecount must be positive") }
            let values = try items(value, arguments)
            let fill = try arguments.value(1, "fill_with")
            var batches: [Value] = []
            var start = 0
            while start < values.count {
                var chunk = Array(values[start..<min(start + size, values.count)])
                if let fill { while chunk.count < size { chunk.append(fill) } }
                batches.append(.list(chunk))
                start += size
            }
            return .list(batches)
        },
    ]
}
