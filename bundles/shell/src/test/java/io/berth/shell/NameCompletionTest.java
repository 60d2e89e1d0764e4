package io.berth.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.shell.NameCompletion.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class NameCompletionTest {

    private static final Map<Kind, List<String>> EXISTING = Map.of(
            Kind.CONTAINER, List.of("web", "worker", "db"),
            Kind.IMAGE, List.of("itest/busybox:1", "app:2"),
            Kind.NETWORK, List.of("bridge", "front"),
            Kind.VOLUME, List.of("data", "cache"));

    private static List<String> complete(String head) {
        return NameCompletion.candidates(head, EXISTING::get);
    }

    @Test
    void eachCommandGetsTheNamesOfWhatItWorksOn() {
        assertEquals(List.of("web", "worker"), complete("berth:stop w"));
        assertEquals(List.of("db", "web", "worker"), complete("logs -f "), "scope or not, after an option too");
        assertEquals(List.of("web"), complete("berth:rm worker we"), "every argument");
        assertEquals(List.of("itest/busybox:1"), complete("berth:run -d --name x it"));
        assertEquals(List.of("front"), complete("berth:network-rm f"));
        assertEquals(List.of("cache"), complete("berth:volume-inspect c"));
    }

    @Test
    void optionsCommandsAndUnknownCommandsGetNone() {
        assertEquals(List.of(), complete("berth:stop -"), "an option is being typed");
        assertEquals(List.of(), complete("berth:st"), "the command itself is not a name");
        assertEquals(List.of(), complete("berth:ps "), "ps takes no names");
        assertEquals(List.of(), complete("berth:stop x"), "nothing matches");
    }

    @Test
    void theConsolesProfileCompletesTheSameCommands() throws Exception {
        // berthd --shell's console completes by the complete definitions of the distribution's profile
        Path profile = Path.of("../../distribution/common/dist/etc/gosh_profile");
        Set<String> defined = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^complete -c berth:(\\S+) -a '__berth_names'$")
                .matcher(Files.readString(profile));
        while (m.find()) {
            defined.add(m.group(1));
        }
        assertEquals(new TreeSet<>(NameCompletion.commands()), defined,
                "the complete lines of " + profile + " and NameCompletion's commands");
    }
}
