import Provisioner

/// Every module `provision` knows, for the engine's name lookup and `--help`.
public enum ModuleCatalog {
    public static let all: [any Module.Type] = [
        FileModule.self,
        CopyModule.self,
        TemplateModule.self,
        LineInFileModule.self,
        CommandModule.self,
        ShellModule.self,
        UserModule.self,
        GroupModule.self,
        ServiceModule.self,
        PackageModule.self,
        DockerCompatModule.self,
        LingerModule.self,
        StorageConfModule.self,
        RegistriesConfModule.self,
        ContainersConfModule.self,
        SubidModule.self,
        SysctlModule.self,
        NvidiaCDIModule.self,
    ] + builtins + services

    /// Services (Podman/): units, containers, images; and Ollama's models (Ollama/).
    static let services: [any Module.Type] = [
        QuadletModule.self,
        ContainerModule.self,
        ImageModule.self,
        VolumeBackupModule.self,
        VolumeRestoreModule.self,
        OllamaModelModule.self,
    ]

    /// Ansible builtins real playbooks reach for (issue 9 §3).
    static let builtins: [any Module.Type] = [
        GetURLModule.self,
        WaitForModule.self,
        URIModule.self,
        StatModule.self,
        FindModule.self,
        SlurpModule.self,
        GetentModule.self,
        PackageFactsModule.self,
        ServiceFactsModule.self,
        UnarchiveModule.self,
        GitModule.self,
        PipModule.self,
        YumRepositoryModule.self,
        AptRepositoryModule.self,
        Deb822RepositoryModule.self,
        AptKeyModule.self,
        RPMKeyModule.self,
    ]
}
