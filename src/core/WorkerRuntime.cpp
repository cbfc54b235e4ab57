#include "core/WorkerRuntime.h"

#include "upstream/HashKey.h"

namespace portico::core {

WorkerRuntime::WorkerRuntime(std::shared_ptr<const Runtime> runtime, Timers& timers,
                             uv_async_t* wake, IntrusiveList<WorkerRuntime>& live,
                             stats::WorkerStats& stats, uint64_t seed, WorkerRuntime* previous)
    : runtime_(std::move(runtime)), wake_(wake), live_(live) {
  live_.push_back(this);
  for (const CompiledListener& l : runtime_->listeners()) {
    const std::string& name = l.config->name;
    listener_stats_.push_back(&stats.listener(name));
    auto& routes = route_stats_.emplace_back();
    for (const config::Route& r : l.config->routes) routes.push_back(&stats.route(name, r.name));
    routes.push_back(&stats.route(name, ""));
  }
  for (const config::Flag& f : runtime_->config().flags) flag_stats_.push_back(&stats.flag(f.name));
  const auto& ups = runtime_->config().upstreams;
  for (size_t i = 0; i < ups.size(); ++i) {
    upstreams_.push_back(std::make_unique<upstream::WorkerUpstream>(
        ups[i], runtime_->pool_state(i), runtime_->balancer_plan(i), runtime_->upstream_tls(i),
        upstream::mix64(seed + i), timers, stats));
    runtime_->pool_state(i).subscribe(wake_);
    if (!previous) continue;
    int old = previous->runtime().upstream_index(ups[i].name);
    if (old >= 0) upstreams_.back()->adopt_idle(previous->upstream(old));
  }
}

WorkerRuntime::~WorkerRuntime() {
  live_.remove(this);
  for (size_t i = 0; i < upstreams_.size(); ++i) runtime_->pool_state(i).unsubscribe(wake_);
}

void WorkerRuntime::retire() {
  retired_ = true;
  for (auto& u : upstreams_) u->retire();
}

upstream::EndpointPool* WorkerRuntime::successor(const upstream::EndpointPool& old) {
  int i = runtime_->upstream_index(old.upstream().name);
  return i < 0 ? nullptr : upstreams_[size_t(i)]->pool_for(old.health());
}

void WorkerRuntime::on_wake() {
  for (auto& u : upstreams_) u->on_wake();
}

}  // namespace portico::core
