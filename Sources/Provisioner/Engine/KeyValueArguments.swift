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
        // The command keeps the text as written (newlines, indentation: a `shell: |` script), less the
        // `k=v` words taken out, each with the one blank after it (as Ansible's split_args/join_args).
        var rest = ""
        var kept = text.startIndex
        for word in words(text) {
            if let eq = word.text.firstIndex(of: "="), !word.quoted {
                let key = String(word.text[..<eq])
                if freeForm == nil || names.contains(key) && key != freeForm {
                    arguments[key] = .string(unquoted(String(word.text[word.text.index(after: eq)...])))
                    rest += text[kept..<word.range.lowerBound]
                    kept = word.range.upperBound < text.endIndex ? text.index(after: word.range.upperBound) : text.endIndex
                    continue
                }
            }
            guard freeForm != nil else {
                throw ArgumentError("expected key=value in the module's string arguments, not '\(word.text)' (or write them as a mapping)")
            }
        }
        rest += text[kept...]
        let command = rest.trimmingCharacters(in: .whitespacesAndNewlines)
        if let freeForm, !command.isEmpty { arguments[freeForm] = .string(command) }
        return arguments
    }

    struct Word {
        var text: String
        var raw: String
        var quoted: Bool
        /// Where the word is in the text it came from.
        var range: Range<String.Index>
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
        var start = text.startIndex
        for index in text.indices {
            let ch = text[index]
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
                if !raw.isEmpty { result.append(Word(text: raw, raw: raw, quoted: startedQuoted, range: start..<index)) }
                raw = ""
                startedQuoted = false
            } else {
                if raw.isEmpty { start = index }
                if raw.isEmpty && (ch == "'" || ch == "\"") { startedQuoted = true }
                if ch == "'" || ch == "\"" { quote = ch }
                raw.append(ch)
            }
        }
        if !raw.isEmpty { result.append(Word(text: raw, raw: raw, quoted: startedQuoted, range: start..<text.endIndex)) }
        return result
    }

    static func unquoted(_ value: String) -> String {
        guard value.count >= 2, let first = value.first, first == value.last, first == "'" || first == "\"" else { return value }
        return String(value.dropFirst().dropLast())
    }
}
