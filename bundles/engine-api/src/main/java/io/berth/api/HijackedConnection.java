package io.berth.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.FutureCallback;

/**
 * A connection taken over after {@code 101 UPGRADED}, as dockerd hijacks attach and exec: raw bytes both ways on
 * the client's socket. The session runs on a thread of its own with blocking streams over the endpoint; the
 * client's half-close is the end of its input, and the session's end closes the connection.
 */
final class HijackedConnection extends AbstractConnection implements Connection.UpgradeTo {

    /** What runs on the taken-over connection. */
    interface Session {
        void run(InputStream fromClient, OutputStream toClient) throws Exception;
    }

    private static final System.Logger LOG = System.getLogger("berth.api");

    private final Session session;
    private final String name;
    /** Bytes the client sent after its request headers, which the HTTP connection had read already. */
    private ByteBuffer leftover = BufferUtil.EMPTY_BUFFER;

    private HijackedConnection(EndPoint endPoint, Executor executor, Session session, String name) {
        super(endPoint, executor);
        this.session = session;
        this.name = name;
    }

    /**
     * Answers {@code 101 UPGRADED} with {@code contentType} and has {@code session} run on the connection once the
     * answer is out.
     */
    static void upgrade(Exchange x, String contentType, String name, Session session) {
        EndPoint endPoint = x.request.getConnectionMetaData().getConnection().getEndPoint();
        Executor executor = x.request.getComponents().getExecutor();
        x.request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE,
                new HijackedConnection(endPoint, executor, session, name));
        x.response.setStatus(101);
        x.response.getHeaders().put("Content-Type", contentType);
        x.response.getHeaders().put("Connection", "Upgrade");
        x.response.getHeaders().put("Upgrade", "tcp");
        x.response.write(true, null, x.callback);
    }

    @Override
    public void onUpgradeTo(ByteBuffer buffer) {
        if (BufferUtil.hasContent(buffer)) {
            leftover = BufferUtil.copy(buffer);
        }
    }

    @Override
    public void onOpen() {
        super.onOpen();
        getEndPoint().setIdleTimeout(0); // an attach may be quiet for hours
        getExecutor().execute(() -> {
            Thread.currentThread().setName("berth-api-" + name);
            try {
                session.run(new ClientInput(), new ClientOutput());
            } catch (Exception e) {
                LOG.log(System.Logger.Level.DEBUG, name + " ended: " + e);
            } finally {
                getEndPoint().shutdownOutput();
                getEndPoint().close();
            }
        });
    }

    @Override
    public void onFillable() {
        // Reads are done by the session's thread (ClientInput), which waits for data with its own callback.
    }

    private static void await(FutureCallback callback) throws IOException {
        try {
            callback.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /** The client's bytes; -1 once it half-closed (or closed) its side. */
    private final class ClientInput extends InputStream {
        private final ByteBuffer buffer = BufferUtil.allocate(16 * 1024);

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] bytes, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            if (leftover.hasRemaining()) {
                int n = Math.min(length, leftover.remaining());
                leftover.get(bytes, offset, n);
                return n;
            }
            while (!buffer.hasRemaining()) {
                BufferUtil.clear(buffer);
                int filled = getEndPoint().fill(buffer);
                if (filled < 0) {
                    return -1;
                }
                if (filled == 0) {
                    FutureCallback readable = new FutureCallback();
                    getEndPoint().fillInterested(readable);
                    await(readable);
                }
            }
            int n = Math.min(length, buffer.remaining());
            buffer.get(bytes, offset, n);
            return n;
        }
    }

    /** Writes straight to the client, each write waited for. */
    private final class ClientOutput extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            FutureCallback written = new FutureCallback();
            getEndPoint().write(written, ByteBuffer.wrap(bytes, offset, length));
            await(written);
        }
    }
}
