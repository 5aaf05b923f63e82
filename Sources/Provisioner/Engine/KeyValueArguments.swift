/// Ansible's string form of module arguments: `file: path=/x state=directory`,
/// and for free-form modules `command: touch /x creates=/x` (known `k=v` words
/// are arguments, the rest is the command).
enum KeyValueArguments {
    /// Arguments given as a mapping that also holds a free-form string (`args:` beside
    /// `command: ...`): the string's `k=v` words and command join the mapping.
    static func expand(_ arguments: ValueDict, freeForm: String?, names: [String]) throws -> ValueDict {
        guard let params = arguments["_raw_params"], let raw = params.string else { return arguments }
        var result = arguments
        result["_raw_params"] = nil
        for (key, value) in try parse(raw, freeForm: freeForm, names: names) where result[key] == nil {
            result[key] = params.isUnsafe ? .untrusted(value) : value
        }
        return result
    }

    static func parse(_ text: String, freeForm: String?, names: [String]) throws -> ValueDict {
        var arguments = ValueDict()
        var rest: [Word] = []
        for word in words(text) {
            if let eq = word.text.firstIndex(of: "="), !word.quoted {
                let key = String(word.text[..<eq])
                if freeForm == nil || names.contains(key) && key != freeForm {
                    arguments[key] = .string(unquoted(String(word.text[word.text.index(after: eq)...])))
                    continue
                }
            }
            guard freeForm != nil else {
                throw ArgumentError("expected key=value in the module's string arguments, not '\(word.text)' (or write them as a mapping)")
            }
            rest.append(word)
        }
        if let freeForm, !rest.isEmpty { arguments[freeForm] = .string(joined(rest)) }
        return arguments
    }

    struct Word {
        var text: String
        var raw: String
        var quoted: Bool
        /// The line ends (one per newline) after the word: a multi-line command keeps its lines.
        var newlines = 0
    }

    /// A free-form command from its words as Ansible's `join_args`: one space between words, and each
    /// line's end where it was (`shell: |` keeps `a=1` and `echo $a` on lines of their own).
    static func joined(_ words: [Word]) -> String {
        var result = ""
        for word in words {
            if !result.isEmpty && !result.hasSuffix("\n") { result += " " }
            result += word.raw + String(repeating: "\n", count: word.newlines)
        }
        return result
    }

    /// Whether `text` can be checked before it is rendered: every word holding a template is
    /// `name=value` with a plain name (or, for a free-form module, part of the command).
    static func isStatic(_ text: String, freeForm: String?) -> Bool {
        words(text).allSatisfy { word in
            guard Templar.containsTemplate(word.text) else { return true }
            guard let eq = word.text.firstIndex(of: "="), !word.quoted else { return freeForm != nil }
            return !Templar.containsTemplate(String(word.text[..<eq]))
        }
    }

    /// Space-separated words, as Ansible's `split_args`: quotes group (and are kept in `raw` for
    /// free-form commands), and so do `{{ }}`, `{% %}` and `{# #}` (`msg={{ x | default('a b') }}` is one word).
    static func words(_ text: String) -> [Word] {
        var result: [Word] = []
        var raw = ""
        var quote: Character?
        var startedQuoted = false
        var depth = 0
        var previous: Character?
        for ch in text {
            defer { previous = ch }
            if quote == nil, let p = previous {
                if p == "{" && (ch == "{" || ch == "%" || ch == "#") { depth += 1 }
                if (p == "}" || p == "%" || p == "#") && ch == "}" && depth > 0 { depth -= 1 }
            }
            if let q = quote {
                raw.append(ch)
                if ch == q { quote = nil }
            } else if depth > 0 {
                raw.append(ch)
            } else if ch == " " || ch == "\t" || ch == "\n" {
                if !raw.isEmpty { result.append(Word(text: raw, raw: raw, quoted: startedQuoted)) }
                if ch == "\n", !result.isEmpty { result[result.count - 1].newlines += 1 }
                raw = ""
                startedQuoted = false
            } else {
                if raw.isEmpty && (ch == "'" || ch == "\"") { startedQuoted = true }
                if ch == "'" || ch == "\"" { quote = ch }
                raw.append(ch)
            }
        }
        if !raw.isEmpty { result.append(Word(text: raw, raw: raw, quoted: startedQuoted)) }
        return result
    }

    static func unquoted(_ value: String) -> String {
        guard value.count >= 2, let first = value.first, first == value.last, first == "'" || first == "\"" else { return value }
        return String(value.dropFirst().dropLast())
    }
}
