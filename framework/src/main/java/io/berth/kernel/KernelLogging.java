package io.berth.kernel;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One logging set-up for the whole daemon: java.util.logging to stderr, one
 * line per record. Bundles log through {@link System.Logger} or SLF4J (which
 * the kernel exports, bound to java.util.logging), so everything lands here.
 */
final class KernelLogging {

    /** java.util.logging holds loggers weakly: a level set on one nobody references is lost. */
    private static final Logger JETTY = Logger.getLogger("org.eclipse.jetty");

    private KernelLogging() {
    }

    /** Applies a dockerd log level: debug, info, warn, error or fatal. */
    static void configure(String logLevel) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        Level level = switch (logLevel) {
            case "debug" -> Level.FINE;
            case "warn" -> Level.WARNING;
            case "error", "fatal" -> Level.SEVERE;
            default -> Level.INFO;
        };
        ConsoleHandler handler = new ConsoleHandler();
        handler.setLevel(level);
        handler.setFormatter(new OneLineFormatter());
        root.addHandler(handler);
        root.setLevel(level);
        // Jetty reports every start and stop at INFO; keep that for debugging only.
        JETTY.setLevel(level == Level.FINE ? Level.FINE : Level.WARNING);
    }

    private static final class OneLineFormatter extends Formatter {
        @Override
        public String format(LogRecord record) {
            StringBuilder line = new StringBuilder()
                    .append(Instant.ofEpochMilli(record.getMillis()))
                    .append(' ').append(levelName(record.getLevel()))
                    .append(' ').append(record.getLoggerName())
                    .append(": ").append(formatMessage(record)).append('\n');
            if (record.getThrown() != null) {
                StringWriter trace = new StringWriter();
                record.getThrown().printStackTrace(new PrintWriter(trace));
                line.append(trace);
            }
            return line.toString();
        }

        private static String levelName(Level level) {
            if (level.intValue() >= Level.SEVERE.intValue()) return "ERROR";
            if (level.intValue() >= Level.WARNING.intValue()) return "WARN ";
            if (level.intValue() >= Level.INFO.intValue()) return "INFO ";
            return "DEBUG";
        }
    }
}
