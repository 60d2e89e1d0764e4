package io.berth.runtime.oci;

import io.berth.spi.runtime.RuntimeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code /etc/hosts}, {@code /etc/hostname} and {@code /etc/resolv.conf} Docker gives every container, written
 * into the container's state directory and bind-mounted over the image's.
 */
final class EtcFiles {

    /** What Docker writes when the host has no name server a container can reach. */
    static final List<String> FALLBACK_NAME_SERVERS = List.of("8.8.8.8", "8.8.4.4");

    private EtcFiles() {
    }

    static String hosts(RuntimeSpec spec) {
        return hosts(spec.hosts());
    }

    /** The localhost lines and then {@code lines}. */
    static String hosts(List<String> lines) {
        StringBuilder text = new StringBuilder()
                .append("127.0.0.1\tlocalhost\n")
                .append("::1\tlocalhost ip6-localhost ip6-loopback\n")
                .append("fe00::0\tip6-localnet\n")
                .append("ff00::0\tip6-mcastprefix\n")
                .append("ff02::1\tip6-allnodes\n")
                .append("ff02::2\tip6-allrouters\n");
        for (String line : lines == null ? List.<String>of() : lines) {
            text.append(line).append('\n');
        }
        return text.toString();
    }

    static String hostname(RuntimeSpec spec) {
        return spec.hostname() + "\n";
    }

    /**
     * resolv.conf as Docker makes it: the given name servers, search domains and options; without name servers the
     * host's file with its loopback name servers removed (they cannot be reached from another network namespace;
     * with the host's network they stay), and Google's when none remain.
     */
    static String resolvConf(RuntimeSpec spec, String hostResolvConf) {
        boolean hostNetwork = "host".equals(spec.networkNamespace());
        List<String> nameServers = new ArrayList<>();
        List<String> search = new ArrayList<>();
        List<String> options = new ArrayList<>();
        List<String> dns = spec.dns() == null ? List.of() : spec.dns();
        if (dns.isEmpty()) {
            for (String line : hostResolvConf.split("\n")) {
                String[] words = line.trim().split("\\s+");
                if (words.length < 2) {
                    continue;
                }
                switch (words[0]) {
                    case "nameserver" -> {
                        if (hostNetwork || !isLoopback(words[1])) {
                            nameServers.add(words[1]);
                        }
                    }
                    case "search", "domain" -> search.addAll(List.of(words).subList(1, words.length));
                    case "options" -> options.addAll(List.of(words).subList(1, words.length));
                    default -> {
                    }
                }
            }
            if (nameServers.isEmpty()) {
                nameServers.addAll(FALLBACK_NAME_SERVERS);
            }
        } else {
            nameServers.addAll(dns);
        }
        if (spec.dnsSearch() != null && !spec.dnsSearch().isEmpty()) {
            search = spec.dnsSearch();
        }
        if (spec.dnsOptions() != null && !spec.dnsOptions().isEmpty()) {
            options = spec.dnsOptions();
        }
        StringBuilder text = new StringBuilder();
        nameServers.forEach(server -> text.append("nameserver ").append(server).append('\n'));
        if (!search.isEmpty()) {
            text.append("search ").append(String.join(" ", search)).append('\n');
        }
        if (!options.isEmpty()) {
            text.append("options ").append(String.join(" ", options)).append('\n');
        }
        return text.toString();
    }

    /** The host's resolv.conf; systemd-resolved's real one when the usual file only names its stub. */
    static String hostResolvConf() throws IOException {
        Path usual = Path.of("/etc/resolv.conf");
        String text = Files.exists(usual) ? Files.readString(usual) : "";
        Path resolved = Path.of("/run/systemd/resolve/resolv.conf");
        if (text.contains("nameserver 127.0.0.53") && Files.exists(resolved)) {
            return Files.readString(resolved);
        }
        return text;
    }

    private static boolean isLoopback(String address) {
        return address.startsWith("127.") || address.equals("::1") || address.equals("0:0:0:0:0:0:0:1");
    }
}
