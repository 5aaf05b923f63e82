import Foundation

/// `provision bundle …`: make a bundle (from a playbook or a seed-003 deploy manifest), verify, split, join.
struct BundleCommand {
    static let spec = CommandSpec(
        name: "bundle",
        synopsis: "bundle PLAYBOOK -o DIR [-i INV] [-e k=v] [--split SIZE] [--binary PATH] [--packages-for debian:13] [--model-store DIR [--models-from URL]] [--models NAME]\n"
            + "       provision bundle --manifest DEPLOY.toml -o DIR [--include NAME] [--split SIZE] [--emit-playbook]\n"
            + "       provision bundle verify DIR | join PARTS... -o DIR | split DIR --split SIZE -o OUT",
        summary: "Air-gapped bundles: collect what a play fetches (images, downloads, the play, provision itself), verify, split, join.",
        options: [
            OptionSpec(names: ["-o", "--output"], value: "DIR", help: "the bundle folder to write (must not exist)"),
            OptionSpec(names: ["-i", "--inventory"], value: "INVENTORY", help: "inventory to bundle (default: inventory/ beside the playbook's folder)", repeatable: true),
            OptionSpec(names: ["-e", "--extra-vars"], value: "k=v|@file", help: "extra variables, used to tell what the play fetches and recorded for install.sh", repeatable: true),
            OptionSpec(names: ["--split"], value: "SIZE", help: "write parts of at most SIZE (4G, 700M) for removable media instead of a folder"),
            OptionSpec(names: ["--binary"], value: "PATH", help: "the provision executable to ship (default: this one; use a static release build)"),
            OptionSpec(names: ["--packages-for"], value: "debian:N", help: "the Debian release the play's packages are downloaded for, with their dependencies (default: this machine's)"),
            OptionSpec(names: ["--model-store"], value: "DIR", help: "the Ollama model store (manifests/, blobs/) the play's ollama_model models are copied from (e.g. ~/.ollama/models)"),
            OptionSpec(names: ["--models-from"], value: "URL", help: "an Ollama server using --model-store: a model the store lacks is pulled through it first (POST URL/api/pull)"),
            OptionSpec(names: ["--models"], value: "NAME", help: "an update bundle: only these models (comma-separated or repeated); the rest the play fetches must be on the host already", repeatable: true),
            OptionSpec(names: ["--manifest"], value: "DEPLOY.toml", help: "an AirGapDeploy manifest (seed 003) instead of a playbook"),
            OptionSpec(names: ["--include"], value: "NAME", help: "with --manifest: also bundle the optional component NAME (required = false)", repeatable: true),
            OptionSpec(names: ["--emit-playbook"], help: "with --manifest: print the play it makes and stop (the seed's --format ansible)"),
            OptionSpec(names: ["-h", "--help"], help: "this help"),
        ])

    var options: ParsedOptions
    var registry: ModuleRegistry

    let progress: (String) -> Void = { ProvisionCommand.printError($0) }

    func run() throws -> Int32 {
        let words = options.positionals
        if options.value("--manifest") == nil, options.flag("--emit-playbook") || !options.all("--include").isEmpty {
            throw UsageError(message: "--include and --emit-playbook select and print the components of a --manifest; a playbook's bundle holds everything it fetches")
        }
        if options.value("--manifest") != nil, ["--model-store", "--models-from"].contains(where: { options.value($0) != nil }) || !options.all("--models").isEmpty {
            throw UsageError(message: "--model-store, --models-from and --models collect a playbook's ollama_model models; a --manifest names its model files itself")
        }
        if options.value("--models-from") != nil, options.value("--model-store") == nil {
            throw UsageError(message: "--models-from pulls into a server's model store, which the bundle copies from: give --model-store DIR too (the server's OLLAMA_MODELS)")
        }
        switch words.first {
        case "verify":
            guard words.count == 2 else { throw UsageError(message: "usage: provision bundle verify DIR") }
            let manifest = try BundleManifest.verify(bundle: words[1], progress: progress)
            print("\(words[1]): \(manifest.entries.count) files, \(manifest.totalSize) bytes verified; aggregate \(manifest.aggregate)")
            return 0
        case "join":
            guard words.count >= 2, let output = options.value("--output") else { throw UsageError(message: "usage: provision bundle join PARTS... -o DIR") }
            let manifest = try BundleParts.join(Array(words.dropFirst()), output: output, progress: progress)
            print("\(output): joined and verified, \(manifest.entries.count) files, \(manifest.totalSize) bytes; aggregate \(manifest.aggregate)")
            return 0
        case "split":
            guard words.count == 2, let output = options.value("--output"), let size = options.value("--split") else {
                throw UsageError(message: "usage: provision bundle split DIR --split SIZE -o OUT")
            }
            let parts = try BundleParts.split(bundle: words[1], size: try BundleParts.parseSize(size), output: output, progress: progress)
            print("\(output): \(parts.count) part(s)")
            return 0
        default:
            break
        }
        let split = try options.value("--split").map(BundleParts.parseSize)
        if let manifestPath = options.value("--manifest") {
            guard words.isEmpty else { throw UsageError(message: "--manifest replaces the playbook: give one or the other") }
            let deploy = try DeployManifest.load(manifestPath, include: options.all("--include"))
            if options.flag("--emit-playbook") {
                print(deploy.playbookText, terminator: "")
                return 0
            }
            guard let output = options.value("--output") else { throw UsageError(message: "say where the bundle goes: -o DIR") }
            return try write(to: output, split: split) { try deploy.writeBundle(to: $0, binary: options.value("--binary"), progress: progress) }
        }
        guard words.count == 1, let playbook = words.first else {
            throw UsageError(message: "'bundle' takes one playbook (or --manifest FILE, or verify/join/split; see 'provision bundle --help')")
        }
        guard FileManager.default.fileExists(atPath: playbook) else { throw UsageError(message: "no playbook at \(playbook)") }
        guard let output = options.value("--output") else { throw UsageError(message: "say where the bundle goes: -o DIR") }
        let config = try AnsibleConfig.load()
        var collector = BundleCollector(playbookPath: playbook,
                                        loader: PlaybookLoader(resolveModule: registry.resolve, moduleNames: registry.names, rolesPath: config.rolesPath ?? []))
        collector.inventories = options.all("--inventory")
        collector.binary = options.value("--binary")
        collector.packagesFor = options.value("--packages-for")
        collector.modelStore = options.value("--model-store").map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        collector.modelsFrom = options.value("--models-from")
        let only = options.all("--models").flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
        if !only.isEmpty { collector.onlyModels = only }
        for extra in options.all("--extra-vars") { collector.extraVars = collector.extraVars.merging(try ExtraVars.parse(extra)) }
        return try write(to: output, split: split) { try collector.write(to: $0) }
    }

    /// Writes the bundle to `output`, or with `--split` to a folder beside it that is cut into parts in `output`.
    func write(to output: String, split: Int?, _ make: (String) throws -> BundleManifest) throws -> Int32 {
        if FileManager.default.fileExists(atPath: output) { throw BundleError("\(output) exists already: remove it or choose another -o") }
        guard let split else {
            let manifest = try make(output)
            print("\(output): \(manifest.entries.count) files, \(manifest.totalSize) bytes; aggregate \(manifest.aggregate)")
            return 0
        }
        try BundleIO.makeParent(of: output)
        let scratch = try BundleIO.temporaryDirectory(beside: output + ".whole")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let whole = scratch + "/" + (output as NSString).lastPathComponent
        let manifest = try make(whole)
        let parts = try BundleParts.split(bundle: whole, size: split, output: output, progress: progress)
        print("\(output): \(parts.count) part(s) of at most \(split) bytes, \(manifest.entries.count) files; aggregate \(manifest.aggregate)")
        print("on the far side: provision bundle join \(output) -o DIR  (or copy the parts into one folder first)")
        return 0
    }
}
