/// Ansible's `comment` filter: text as a comment block in one of its styles (plain, erlang, c,
/// cblock, xml), with its `decoration`, `prefix`/`postfix` (and counts), `beginning`, `end`, `newline`.
extension TemplateFilters {
    static let comments: [String: TemplateFilter] = ["comment": comment]

    static let commentStyles: [String: [String: String]] = [
        "plain": ["decoration": "# "],
        "erlang": ["decoration": "% "],
        "c": ["decoration": "// "],
        "cblock": ["beginning": "/*", "decoration": " * ", "end": " */"],
        "xml": ["beginning": "<!--", "decoration": " - ", "end": "-->"],
    ]

    static let comment: TemplateFilter = { input, arguments, _ in
        let text = try input.get().pythonText
        guard arguments.positional.count <= 1 else { throw arguments.error("takes at most 1 positional argument (style)") }
        let style = try arguments.positional.first?.get().pythonText
            ?? arguments.keywords.last(where: { $0.name == "style" })?.value.get().pythonText ?? "plain"
        guard let styleParameters = commentStyles[style] else {
            throw arguments.error("Invalid style '\(style)'. Available styles: \(["plain", "erlang", "c", "cblock", "xml"].joined(separator: ", "))")
        }
        var given: [String: Value] = [:]
        for (name, operand) in arguments.keywords where name != "style" { given[name] = try operand.get() }
        let prepostfix = given["decoration"]?.pythonText ?? styleParameters["decoration"] ?? ""
        var p: [String: String] = ["newline": "\n", "beginning": "", "prefix": PythonString.strip(prepostfix, leading: false, trailing: true),
                                   "decoration": "", "postfix": PythonString.strip(prepostfix, leading: false, trailing: true), "end": ""]
        p.merge(styleParameters) { $1 }
        for (key, value) in given { p[key] = value.pythonText }
        func count(_ key: String) throws -> Int {
            guard let raw = given[key] else { return 1 }
            switch raw {
            case .int(let n): return n
            case .string(let s): if let n = Int(PythonString.strip(s)) { return n }
            default: break
            }
            throw arguments.error("\(key) must be an integer, not \(raw.pythonText)")
        }
        let newline = p["newline"] ?? "\n", decoration = p["decoration"] ?? ""
        let prefix = p["prefix"] ?? "", postfix = p["postfix"] ?? ""
        var out = ""
        if let beginning = p["beginning"], !beginning.isEmpty { out += beginning + newline }
        if !prefix.isEmpty {
            out += String(repeating: prefix == newline ? newline : prefix + newline, count: max(0, try count("prefix_count")))
        }
        let decorated = decoration + text.replacingOccurrences(of: newline, with: newline + decoration)
        out += decorated.replacingOccurrences(of: decoration + newline,
                                              with: PythonString.strip(decoration, leading: false, trailing: true) + newline)
        out += ([""] + Array(repeating: postfix, count: max(0, try count("postfix_count")))).joined(separator: newline)
        if let end = p["end"], !end.isEmpty { out += newline + end }
        return .value(.string(out))
    }
}
