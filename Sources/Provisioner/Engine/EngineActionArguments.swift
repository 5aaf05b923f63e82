/// The arguments of the engine's own actions (`debug`, `set_fact`, `assert`, `fail`, `include_vars`),
/// as a mapping or as Ansible's `k=v` string (`set_fact: x=1 y="two words"`, `assert: that="1 == 2"`),
/// checked against what each action takes as Ansible checks them.
enum EngineActionArguments {
    /// Argument names each action takes (nil: any name, as set_fact's facts), and its free-form argument.
    static func accepted(_ action: EngineAction) -> (names: [String]?, freeForm: String?) {
        switch action {
        case .debug: return (["msg", "var", "verbosity"], nil)
        case .fail: return (["msg"], nil)
        case .assert: return (["that", "fail_msg", "msg", "success_msg", "quiet"], nil)
        case .setFact: return (nil, nil)
        case .includeVars: return (["file", "name"], "file")
        case .meta: return (["_raw_params"], "_raw_params")
        case .addHost: return (nil, nil)
        case .groupBy: return (["key", "parents"], nil)
        case .setup: return (["gather_subset", "filter"], nil)
        case .pause: return (["seconds", "minutes", "prompt", "echo"], nil)
        case .asyncStatus: return (["jid", "mode"], nil)
        case .reboot: return (HostRun.rebootArguments.sorted(), nil)
        }
    }

    /// The arguments as a mapping; throws `ArgumentError` for what the action does not take.
    static func parse(_ arguments: Value, _ action: EngineAction) throws -> ValueDict {
        let (names, freeForm) = accepted(action)
        var dict: ValueDict
        switch arguments.peeled {
        case .null: dict = ValueDict()
        case .dict: dict = arguments.members ?? ValueDict()
        case .string(let text):
            dict = ValueDict()
            for word in KeyValueArguments.words(text) {
                if let eq = word.text.firstIndex(of: "="), !word.quoted, eq != word.text.startIndex,
                   names.map({ $0.contains(String(word.text[..<eq])) }) ?? true {
                    dict[String(word.text[..<eq])] = .string(KeyValueArguments.unquoted(String(word.text[word.text.index(after: eq)...])))
                } else if let freeForm {
                    dict[freeForm] = .string(((dict[freeForm]?.string).map { $0 + " " } ?? "") + word.raw)
                } else if let eq = word.text.firstIndex(of: "="), !word.quoted {
                    throw ArgumentError("'\(action.rawValue)' has no argument '\(word.text[..<eq])'"
                        + Suggestion.hint(for: String(word.text[..<eq]), in: names ?? []) + supported(names), argument: nil)
                } else {
                    throw ArgumentError("'\(action.rawValue)' takes key=value arguments, not '\(word.raw)'" + supported(names))
                }
            }
        default:
            throw ArgumentError("the arguments of '\(action.rawValue)' must be a mapping or key=value text")
        }
        if arguments.isUnsafe { dict = ValueDict(dict.map { ($0.key, Value.untrusted($0.value)) }) }
        if let raw = dict["_raw_params"], action != .meta {
            guard let freeForm else { throw ArgumentError("'\(action.rawValue)' takes key=value arguments, not '\(raw.pythonText)'" + supported(names)) }
            dict["_raw_params"] = nil
            if dict[freeForm] == nil { dict[freeForm] = raw }
        }
        if let names {
            for key in dict.keys where !names.contains(key) {
                throw ArgumentError("'\(action.rawValue)' has no argument '\(key)'\(Suggestion.hint(for: key, in: names))" + supported(names), argument: key)
            }
        } else {
            for key in dict.keys where !Templar.containsTemplate(key) && !isVariableName(key) {
                throw ArgumentError("set_fact: '\(key)' is not a variable name (letters, digits, '_')", argument: key)
            }
        }
        switch action {
        case .debug where dict["msg"] != nil && dict["var"] != nil:
            throw ArgumentError("debug: 'msg' and 'var' are mutually exclusive", argument: "var")
        case .assert where dict["that"] == nil:
            throw ArgumentError("assert needs 'that' (the conditions to check)")
        case .includeVars where dict["file"] == nil:
            throw ArgumentError("include_vars needs a file (include_vars: vars/main.yml); 'dir' is not implemented yet")
        default: break
        }
        return dict
    }

    static func supported(_ names: [String]?) -> String {
        guard let names, !names.isEmpty else { return "" }
        return " (it takes \(names.joined(separator: ", ")))"
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }
}
