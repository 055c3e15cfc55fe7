#include "agent/core/collection_store.h"

#include "agent/base/mutex.h"

namespace vigil {

void CollectionStore::Update(const Key& key, const std::function<void(CollectorState&)>& fn) {
  CollectorState copy;
  Listener listener;
  {
    MutexLock lock(mu_);
    CollectorState& s = states_[key];
    s.kind = key.first;
    s.target = key.second;
    fn(s);
    generation_.fetch_add(1);
    if (listener_) {
      copy = s;
      listener = listener_;
    }
  }
  if (listener) listener(copy);
}

void CollectionStore::Retain(const std::set<Key>& keep) {
  MutexLock lock(mu_);
  for (auto it = states_.begin(); it != states_.end();) {
    it = keep.count(it->first) ? std::next(it) : states_.erase(it);
  }
  generation_.fetch_add(1);
}

std::vector<CollectorState> CollectionStore::States() const {
  MutexLock lock(mu_);
  std::vector<CollectorState> out;
  out.reserve(states_.size());
  for (const auto& [key, state] : states_) out.push_back(state);
  return out;
}

void CollectionStore::SetListener(Listener listener) {
  MutexLock lock(mu_);
  listener_ = std::move(listener);
}

}  // namespace vigil
