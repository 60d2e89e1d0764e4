package io.berth.kernel;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The distribution's {@code conf/config.properties}: framework properties,
 * where {@code ${name}} is replaced by a kernel fact ({@code berth.home},
 * {@code berth.data-root}, ...) or a system property.
 */
final class FrameworkProperties {

    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([^}]+)}");

    private FrameworkProperties() {
    }

    static Map<String, String> load(Path file, Map<String, String> facts) throws IOException {
        Properties raw = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            raw.load(reader);
        } catch (NoSuchFileException e) {
            return Map.of();
        }
        Map<String, String> result = new LinkedHashMap<>();
        for (String name : raw.stringPropertyNames()) {
            result.put(name, substitute(raw.getProperty(name), facts));
        }
        return result;
    }

    static String substitute(String value, Map<String, String> facts) {
        Matcher matcher = VARIABLE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String name = matcher.group(1);
            String replacement = facts.getOrDefault(name, System.getProperty(name, matcher.group()));
            matcher.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        matcher.appendTail(out);
        return out.toString();
    }
}
