import Foundation
import Provisioner

/// Ansible's `git`: a checkout of `repo` at `version` in `dest`, on a host that has git. What the
/// checkout has (HEAD, remote URL, local modifications) and what the remote offers (`git
/// ls-remote`) are read in the play's observation round trip, so the plan knows the commit HEAD
/// will move to: the task is changed only when HEAD moves (or the remote URL changes), and a
/// converged checkout is neither fetched nor touched.
struct GitModule: Module {
    static let name = "git"
    static let summary = "Clone or update a git checkout at a branch, tag or commit"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("repo", .string, required: true, aliases: ["name"], doc: "URL or path of the repository"),
        ArgumentSpec("dest", .path, required: true, doc: "where the checkout lives"),
        ArgumentSpec("version", .string, default: "HEAD", doc: "branch, tag, full commit SHA, or HEAD (the remote's default branch)"),
        ArgumentSpec("force", .bool, default: false, doc: "discard local modifications instead of failing on them"),
        ArgumentSpec("depth", .int, doc: "shallow clone/fetch with this many commits"),
        ArgumentSpec("update", .bool, default: true, doc: "false: an existing checkout is left as it is"),
        ArgumentSpec("clone", .bool, default: true, doc: "false: a missing checkout is not created"),
        ArgumentSpec("remote", .string, default: "origin", doc: "name of the remote"),
        ArgumentSpec("bare", .bool, default: false, doc: "a bare repository (no working tree)"),
        ArgumentSpec("single_branch", .bool, default: false, doc: "clone only the history of version"),
        ArgumentSpec("recursive", .bool, default: true, doc: "update submodules too"),
        ArgumentSpec("accept_hostkey", .bool, default: false, doc: "accept an unknown ssh host key (StrictHostKeyChecking=no)"),
        ArgumentSpec("accept_newhostkey", .bool, default: false, doc: "accept a new but not a changed ssh host key"),
        ArgumentSpec("key_file", .path, doc: "ssh private key for the repository"),
        ArgumentSpec("ssh_opts", .string, doc: "more options for ssh"),
        ArgumentSpec("executable", .path, doc: "the git program (default: git on PATH)"),
    ]

    let repo: String
    let dest: String
    let version: String
    let force: Bool
    let depth: Int?
    let update: Bool
    let clone: Bool
    let remote: String
    let bare: Bool
    let singleBranch: Bool
    let recursive: Bool
    let ssh: String?
    let git: String

    init(_ arguments: ModuleArguments) throws {
        let given = arguments.string("repo") ?? ""
        // As Ansible: an absolute path is a file:// URL.
        repo = given.hasPrefix("/") ? "file://" + given : given
        dest = arguments.string("dest") ?? ""
        version = arguments.string("version") ?? "HEAD"
        force = arguments.bool("force")
        depth = arguments.int("depth")
        update = arguments["update"].flatMap(ModuleArguments.boolean) ?? true
        clone = arguments["clone"].flatMap(ModuleArguments.boolean) ?? true
        remote = arguments.string("remote") ?? "origin"
        bare = arguments.bool("bare")
        singleBranch = arguments.bool("single_branch")
        recursive = arguments["recursive"].flatMap(ModuleArguments.boolean) ?? true
        git = arguments.string("executable") ?? "git"
        var options = arguments.string("ssh_opts") ?? ""
        if arguments.bool("accept_hostkey") && !options.contains("StrictHostKeyChecking") { options += " -o StrictHostKeyChecking=no" }
        if arguments.bool("accept_newhostkey") && !options.contains("StrictHostKeyChecking") { options += " -o StrictHostKeyChecking=accept-new" }
        if let key = arguments.string("key_file") { options += " -i \(RemoteShell.quoted(key)) -o IdentitiesOnly=yes" }
        options = options.trimmingCharacters(in: .whitespaces)
        ssh = options.isEmpty ? nil : "ssh " + options
        if let depth, depth < 1 { throw ModuleError("depth must be at least 1", argument: "depth") }
        if repo.isEmpty || dest.isEmpty { throw ModuleError("repo and dest must not be empty", argument: repo.isEmpty ? "repo" : "dest") }
        if version.isEmpty || version.hasPrefix("-") { throw ModuleError("'\(version)' is not a version", argument: "version") }
        if remote.isEmpty || remote.hasPrefix("-") { throw ModuleError("'\(remote)' is not a remote name", argument: "remote") }
    }

    var environment: [String: String] {
        var env = ["LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"]
        if let ssh { env["GIT_SSH_COMMAND"] = ssh }
        return env
    }

    /// `key<TAB>value` lines about the checkout, then the remote's refs as `ls-remote --symref` prints them.
    static let script = #"""
    git=$1 dest=$2 repo=$3 remote=$4 version=$5 bare=$6 ssh=$7
    command -v "$git" > /dev/null 2>&1 || { echo nogit; exit 0; }
    [ -n "$ssh" ] && export GIT_SSH_COMMAND="$ssh"
    export LC_ALL=C GIT_TERMINAL_PROMPT=0
    if [ "$bare" = 1 ]; then config=$dest/config; else config=$dest/.git/config; fi
    if [ -f "$config" ]; then
      printf 'head\t%s\n' "$("$git" -C "$dest" rev-parse HEAD 2> /dev/null)"
      printf 'url\t%s\n' "$("$git" -C "$dest" config --get "remote.$remote.url" 2> /dev/null)"
      [ "$bare" = 1 ] || "$git" -C "$dest" status --porcelain --untracked-files=no 2> /dev/null | sed 's/^/modified\t/'
      printf 'local\t%s\n' "$("$git" -C "$dest" rev-parse --verify -q "$version^{commit}" 2> /dev/null)"
    elif [ -e "$dest" ] && [ -n "$(ls -A -- "$dest" 2> /dev/null)" ]; then
      echo occupied
    fi
    "$git" ls-remote --symref -- "$repo" HEAD "refs/heads/$version" "refs/tags/$version" "refs/tags/$version^{}" > "${TMPDIR:-/tmp}/.provision-git.$$" 2>&1
    rc=$?
    sed 's/^/remote\t/' "${TMPDIR:-/tmp}/.provision-git.$$"; rm -f "${TMPDIR:-/tmp}/.provision-git.$$"
    printf 'ls-remote\t%s\n' "$rc"
    exit 0
    """#

    var probe: Observation {
        .command(["/bin/sh", "-c", GitModule.script, "sh", git, dest, repo, remote, version, bare ? "1" : "0", ssh ?? ""])
    }

    func observations(_ context: ModuleContext) -> [Observation] { [probe] }

    struct Checkout {
        var head: String?
        var url: String?
        var modified: [String] = []
        /// The version as a commit this checkout already has.
        var local: String?
    }

    struct Remote {
        var refs: [String: String] = [:]
        /// The branch the remote's HEAD names.
        var defaultBranch: String?
        var error: String?
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        guard let output = observed.command(probe.argv) else { return .failed("git could not be asked on the host") }
        var checkout: Checkout?, remoteRefs = Remote(), occupied = false, remoteLines: [String] = [], status = "0"
        for line in output.stdout.split(separator: "\n").map(String.init) {
            if line == "nogit" { return .failed("the host has no '\(git)': install git first") }
            if line == "occupied" { occupied = true; continue }
            let pair = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "head": checkout = checkout ?? Checkout(); checkout?.head = pair[1].isEmpty ? nil : pair[1]
            case "url": checkout?.url = pair[1]
            case "modified": checkout?.modified.append(pair[1])
            case "local": checkout?.local = pair[1].isEmpty ? nil : pair[1]
            case "remote": remoteLines.append(pair[1])
            case "ls-remote": status = pair[1]
            default: continue
            }
        }
        for line in remoteLines {
            let fields = line.split(separator: "\t", maxSplits: 1).map(String.init)
            guard fields.count == 2 else { continue }
            if fields[0].hasPrefix("ref: refs/heads/"), fields[1] == "HEAD" { remoteRefs.defaultBranch = String(fields[0].dropFirst(16)) }
            else if fields[0].count >= 40, fields[0].allSatisfy(\.isHexDigit) { remoteRefs.refs[fields[1]] = fields[0] }
        }
        if status != "0" { remoteRefs.error = remoteLines.joined(separator: "\n") }
        var result: ValueDict = ["before": checkout?.head.map(Value.string) ?? .null]
        if checkout == nil && occupied {
            return .failed("destination path '\(dest)' already exists and is not an empty directory")
        }
        guard let checkout else {
            guard clone else { return Plan(result: result.merging(["after": .null])) }
            guard let target = target(remoteRefs) else { return .failed(remoteFailure(remoteRefs)) }
            result["after"] = .string(target.commit)
            return Plan(changes: [cloning(target)], result: result)
        }
        if !update { return Plan(result: result.merging(["after": result["before"] ?? .null])) }
        if !checkout.modified.isEmpty && !force {
            return .failed("Local modifications exist in the destination: \(dest) (force=no).")
        }
        let urlChanged = (checkout.url.map { GitModule.unfrack($0) != GitModule.unfrack(repo) } ?? true)
        result["remote_url_changed"] = .bool(urlChanged)
        guard let target = target(remoteRefs, local: checkout.local) else { return .failed(remoteFailure(remoteRefs)) }
        result["after"] = .string(target.commit)
        var changes: [Change] = []
        if !checkout.modified.isEmpty {
            changes.append(Change("discard local modifications in \(dest)", diff: nil,
                                  actions: [.run(gitCommand(["reset", "--hard", "HEAD"]))]))
        }
        if urlChanged {
            let set: [String] = checkout.url == nil ? ["remote", "add", remote, repo] : ["remote", "set-url", remote, repo]
            changes.append(Change("remote \(remote) of \(dest): \(checkout.url ?? "none") -> \(repo)", actions: [.run(gitCommand(set))]))
        }
        if checkout.head != target.commit {
            changes.append(moving(checkout, to: target))
        }
        return Plan(changes: changes, result: result)
    }

    /// What version names on the remote: a branch, a tag (its commit), HEAD (the default branch), or a commit.
    struct Target {
        enum Kind { case branch(String), tag, commit }
        var kind: Kind
        var commit: String
    }

    func target(_ remote: Remote, local: String? = nil) -> Target? {
        if version == "HEAD" {
            guard let commit = remote.refs["HEAD"] else { return nil }
            return Target(kind: remote.defaultBranch.map { .branch($0) } ?? .commit, commit: commit)
        }
        if let commit = remote.refs["refs/heads/\(version)"] { return Target(kind: .branch(version), commit: commit) }
        if let commit = remote.refs["refs/tags/\(version)^{}"] ?? remote.refs["refs/tags/\(version)"] { return Target(kind: .tag, commit: commit) }
        // A full SHA is its own commit; a shorter one only when the checkout already knows it.
        if remote.error == nil, version.count == 40, version.allSatisfy(\.isHexDigit) { return Target(kind: .commit, commit: version.lowercased()) }
        if let local, version.count >= 4, version.allSatisfy(\.isHexDigit), local.hasPrefix(version.lowercased()) {
            return Target(kind: .commit, commit: local)
        }
        return nil
    }

    func remoteFailure(_ remote: Remote) -> String {
        if let error = remote.error { return "Failed to read the remote \(repo) (git ls-remote): \(error)" }
        return "Failed to find version '\(version)' in \(repo): it is no branch or tag there, nor a full commit SHA"
    }

    func gitCommand(_ words: [String], in folder: String? = nil) -> Command {
        Command([git, "-C", folder ?? dest] + words, environment: environment)
    }

    var submodules: [Action] {
        guard recursive && !bare else { return [] }
        return [.run(Command(["/bin/sh", "-c", "[ ! -f .gitmodules ] || exec \"$0\" submodule update --init --recursive", git],
                             environment: environment, directory: dest))]
    }

    func cloning(_ target: Target) -> Change {
        var words = ["clone", "--origin", remote]
        if let depth { words += ["--depth", String(depth)] + (singleBranch ? [] : ["--no-single-branch"]) } else if singleBranch { words.append("--single-branch") }
        if bare { words.append("--bare") }
        switch target.kind {
        case .branch(let branch): words += ["--branch", branch]
        case .tag: words += ["--branch", version]
        case .commit: break
        }
        var actions: [Action] = [.run(Command([git] + words + ["--", repo, dest], environment: environment))]
        if case .commit = target.kind, !bare {
            actions.append(.run(gitCommand(["checkout", "--force", target.commit])))
        }
        return Change("clone \(repo) (\(version)) into \(dest)", diff: TextDiff(label: dest, before: "", after: "HEAD: \(target.commit)\n"),
                      actions: actions + submodules)
    }

    /// Fetch, then move HEAD: a branch is checked out and reset to the remote's, a tag or commit checked out.
    func moving(_ checkout: Checkout, to target: Target) -> Change {
        var fetch = ["fetch"] + (depth.map { ["--depth", String($0)] } ?? []) + [remote]
        fetch += bare ? ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
                      : ["+refs/heads/*:refs/remotes/\(remote)/*", "+refs/tags/*:refs/tags/*"]
        var actions: [Action] = checkout.local == target.commit ? [] : [.run(gitCommand(fetch))]
        if case .commit = target.kind, checkout.local != target.commit, depth != nil {
            actions.append(.run(gitCommand(["fetch", "--depth", String(depth ?? 1), remote, target.commit])))
        }
        if !bare {
            switch target.kind {
            case .branch(let branch):
                actions.append(.run(gitCommand(["checkout", "--force", "-B", branch, "\(remote)/\(branch)"])))
                actions.append(.run(gitCommand(["reset", "--hard", "\(remote)/\(branch)"])))
            case .tag, .commit:
                actions.append(.run(gitCommand(["checkout", "--force", target.commit])))
            }
            actions += submodules
        }
        return Change("move \(dest) from \(checkout.head ?? "nothing") to \(target.commit) (\(version))",
                      diff: TextDiff(label: dest, before: "HEAD: \(checkout.head ?? "")\n", after: "HEAD: \(target.commit)\n"), actions: actions)
    }

    /// Ansible's `unfrackgitpath`: URLs compared without a trailing slash or `.git`.
    static func unfrack(_ url: String) -> String {
        var text = url
        while text.hasSuffix("/") { text.removeLast() }
        if text.hasSuffix(".git") { text.removeLast(4) }
        return text.lowercased()
    }
}
