/// A module's help, written from its argument declaration (the one source of truth).
enum ModuleDoc {
    static func text(_ module: any Module.Type) -> String {
        var lines = ["\(module.name) — \(module.summary)"]
        let names = [module.name] + module.aliases
        lines.append("also: " + (names.map { "ansible.builtin.\($0)" } + module.aliases).joined(separator: ", "))
        if let freeForm = module.freeFormArgument { lines.append("free form: '\(module.name): TEXT' sets \(freeForm)") }
        if !module.supportsCheckMode { lines.append("check mode: skipped (its effect cannot be predicted)") }
        lines.append("")
        lines.append("arguments:")
        // Required arguments first, then by name.
        let ordered = module.arguments.filter(\.required).sorted { $0.name < $1.name }
            + module.arguments.filter { !$0.required }.sorted { $0.name < $1.name }
        for spec in ordered {
            var facts = [spec.kind.rawValue]
            if spec.required { facts.append("required") }
            if let d = spec.defaultValue { facts.append("default \(d.pythonText)") }
            if !spec.choices.isEmpty { facts.append("one of " + spec.choices.joined(separator: "|")) }
            if !spec.aliases.isEmpty { facts.append("aliases " + spec.aliases.joined(separator: ", ")) }
            lines.append("  \(spec.name) (\(facts.joined(separator: "; ")))")
            lines.append("      \(spec.doc)")
        }
        return lines.joined(separator: "\n")
    }
}
