#include "harness/NginxServer.h"

#include <unistd.h>

#include <cstdlib>

#include "harness/Command.h"
#include "harness/Ports.h"
#include "harness/Socket.h"
#include "harness/Template.h"

namespace portico::it {

std::string NginxProgram() {
  if (const char* env = std::getenv("NGINX"); env && *env) return env;
  if (::access("/usr/sbin/nginx", X_OK) == 0) return "/usr/sbin/nginx";
  return FindOnPath("nginx");
}

NginxServer::NginxServer() : port_(FreePort()) {}

bool NginxServer::Start(const std::string& server, std::string* error, Ms timeout) {
  const std::string& d = dir_.path();
  std::string conf = Fill(R"(daemon off;
master_process off;
worker_processes 1;
error_log {{DIR}}/error.log info;
pid {{DIR}}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path {{DIR}}/body;
  proxy_temp_path {{DIR}}/proxy;
  fastcgi_temp_path {{DIR}}/fastcgi;
  uwsgi_temp_path {{DIR}}/uwsgi;
  scgi_temp_path {{DIR}}/scgi;
  server {
    listen 127.0.0.1:{{PORT}} ssl;
{{SERVER}}
  }
}
)",
                          {{"DIR", d}, {"PORT", std::to_string(port_)}, {"SERVER", server}});
  SpawnOptions spawn;
  spawn.program = NginxProgram();
  if (spawn.program.empty()) {
    *error = "nginx not found (or set NGINX)";
    return false;
  }
  spawn.args = {"-p", d, "-e", d + "/error.log", "-c", dir_.Write("nginx.conf", conf)};
  spawn.stdout_path = dir_.File("nginx.out");
  spawn.stderr_path = dir_.File("nginx.err");
  if (!child_.Spawn(spawn, error)) return false;
  Deadline deadline(timeout);
  while (true) {
    if (!child_.Running()) {
      *error = "nginx exited: " + DescribeStatus(*child_.status()) + "\n" +
               ReadFile(dir_.File("nginx.err")) + ReadFile(dir_.File("error.log"));
      return false;
    }
    if (ConnectLoopback(port_, Deadline(Ms{200}))) return true;
    if (deadline.Expired()) {
      *error =
          "nginx did not listen on " + address() + " in time\n" + ReadFile(dir_.File("error.log"));
      return false;
    }
    child_.WaitForExitEvent(Ms{20});  // a pause that ends early if nginx dies
  }
}

}  // namespace portico::it
