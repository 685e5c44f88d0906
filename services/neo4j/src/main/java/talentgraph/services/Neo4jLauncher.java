package talentgraph.services;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * Runs Neo4j Community (embedded) with a Bolt connector, in the foreground, until SIGTERM.
 *
 * <pre>java -cp CLASSPATH talentgraph.services.Neo4jLauncher --data DIR --port 7687 [--host 127.0.0.1] [--pagecache-mb 128]</pre>
 *
 * Auth: when the environment variable NEO4J_PASSWORD is non-empty, auth is on and the built-in user "neo4j" gets
 * that password on every start (so the password is whatever the caller says, even over an existing data dir).
 * When it is empty or unset, auth is off. The password travels in the environment, not argv, so `ps` does not show it.
 *
 * Prints one line "READY bolt://HOST:PORT" on stdout once Bolt accepts connections; services/up waits for it.
 */
public final class Neo4jLauncher {

    private Neo4jLauncher() {
    }

    public static void main(String[] args) throws Exception {
        Path home = Path.of(option(args, "--data", null)).toAbsolutePath();
        String host = option(args, "--host", "127.0.0.1");
        int port = intOption(args, "--port", null);
        long pagecacheMb = intOption(args, "--pagecache-mb", "128");
        String password = System.getenv().getOrDefault("NEO4J_PASSWORD", "");
        boolean auth = !password.isEmpty();
        if (auth && password.length() < 8) {
            // Neo4j's own minimum (dbms.security.auth_minimum_password_length); fail before touching the store.
            fail("NEO4J_PASSWORD has " + password.length() + " characters; Neo4j needs at least 8. "
                    + "Set a longer password, or unset it to run with auth disabled.");
        }
        Files.createDirectories(home);

        Log4jLogProvider userLog = new Log4jLogProvider(System.out);
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setUserLogProvider(userLog)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(host, port))
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                // No usage reports from test machines.
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pagecacheMb))
                // A dev/test store keeps no history beyond 1 GB of transaction logs: kept by age (a day, as
                // before), a day of benchmark runs left 39 GB of them. Recovery needs only those since the last
                // checkpoint, which Neo4j keeps whatever this says.
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "1G size")
                // Bolt's Netty loops each wait out a 5 s quiet period on shutdown (10 s per stop in all); no
                // client is left by then, so 1 s is plenty. An internal setting, fine with the version pinned.
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 1)
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        // The JVM runs shutdown hooks on SIGTERM/SIGINT; a clean shutdown checkpoints the store so the next
        // start does not have to recover it.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("STOPPING neo4j");
            dbms.shutdown();
            userLog.close();
            System.out.println("STOPPED neo4j");
            stopped.countDown();
        }, "neo4j-shutdown"));

        if (auth) {
            setPassword(dbms, password);
        }
        // Bolt is bound during build(); a query on the default database proves the store is open too.
        dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");
        System.out.println("READY bolt://" + host + ":" + port + " auth=" + (auth ? "on user=neo4j" : "off")
                + " home=" + home);
        System.out.flush();
        stopped.await();
    }

    /** The value after "--name" in args, else the default; no default means the option is required. */
    private static String option(String[] args, String name, String defaultValue) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        if (defaultValue == null) {
            fail("Option " + name + " is missing. Pass " + name + " VALUE.");
        }
        return defaultValue;
    }

    private static int intOption(String[] args, String name, String defaultValue) {
        String value = option(args, name, defaultValue);
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            fail("Option " + name + " is " + value + "; expected a whole number.");
            return -1;
        }
    }

    private static void fail(String message) {
        System.err.println("ERROR " + message);
        System.exit(2);
    }

    /** Sets the built-in user's password without the "must change on first login" flag. */
    private static void setPassword(DatabaseManagementService dbms, String password) {
        var system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        system.executeTransactionally(
                "CREATE USER neo4j IF NOT EXISTS SET PLAINTEXT PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        try {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PLAINTEXT PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (RuntimeException e) {
            // Neo4j refuses to "change" a password to the value it already has; that is the state we want.
            if (!String.valueOf(e.getMessage()).contains("Old password and new password cannot be the same")) {
                throw e;
            }
        }
    }
}
