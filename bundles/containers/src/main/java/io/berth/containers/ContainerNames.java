package io.berth.containers;

import java.security.SecureRandom;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Container names as Docker checks and makes them: {@code [a-zA-Z0-9][a-zA-Z0-9_.-]+}, shown with a leading
 * slash, and generated ones of the form {@code adjective_surname} when none is given.
 */
final class ContainerNames {

    private static final Pattern VALID = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]+");

    private static final List<String> ADJECTIVES = List.of(
            "agile", "amber", "bold", "brave", "bright", "calm", "careful", "cheerful", "clever", "cosy",
            "curious", "daring", "eager", "earnest", "fearless", "festive", "fond", "frank", "gentle", "glad",
            "golden", "graceful", "happy", "hardy", "honest", "humble", "jolly", "keen", "kind", "lively",
            "loyal", "lucid", "merry", "mindful", "modest", "nimble", "noble", "patient", "placid", "plucky",
            "polite", "proud", "quick", "quiet", "radiant", "ready", "serene", "sharp", "silent", "sincere",
            "spry", "steady", "sturdy", "sunny", "swift", "tender", "tidy", "upbeat", "vivid", "warm", "wise",
            "witty", "zealous");

    /** Engineers, scientists and seafarers. */
    private static final List<String> SURNAMES = List.of(
            "agnesi", "babbage", "banach", "bell", "bohr", "boole", "brahe", "cartwright", "cerf", "curie",
            "darwin", "dijkstra", "easley", "euler", "faraday", "fermat", "franklin", "galois", "gauss",
            "germain", "goodall", "hamilton", "hawking", "hopper", "hypatia", "johnson", "kepler", "knuth",
            "kovalevskaya", "lamarr", "lovelace", "maxwell", "meitner", "mendel", "mirzakhani", "napier",
            "newton", "noether", "pascal", "payne", "perlman", "planck", "poincare", "ramanujan", "ritchie",
            "sagan", "shannon", "somerville", "tesla", "thompson", "torvalds", "turing", "villani", "volta",
            "wilson", "wozniak", "yalow", "zuse");

    private final Random random;

    ContainerNames() {
        this(new SecureRandom());
    }

    ContainerNames(Random random) {
        this.random = random;
    }

    /** The name without a leading slash; refuses one Docker refuses, with Docker's message. */
    static String validate(String name) {
        String bare = name.startsWith("/") ? name.substring(1) : name;
        if (!VALID.matcher(bare).matches()) {
            throw new IllegalArgumentException("Invalid container name (" + name
                    + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        }
        return bare;
    }

    /** A new {@code adjective_surname} that {@code taken} does not hold; a digit is added after collisions. */
    String generate(Predicate<String> taken) {
        for (int attempt = 0; ; attempt++) {
            String name = ADJECTIVES.get(random.nextInt(ADJECTIVES.size())) + "_"
                    + SURNAMES.get(random.nextInt(SURNAMES.size()));
            if (attempt >= 10) {
                name += random.nextInt(10); // as Docker does once the plain pairs keep colliding
            }
            if (!taken.test(name)) {
                return name;
            }
        }
    }
}
